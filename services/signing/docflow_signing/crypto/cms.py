"""Detached CMS (PKCS#7) signatures as users upload them: decoding, and finding the signer certificate.

Verifying a decoded signature is ``crypto.verification``; the times it carries, ``crypto.signing_times``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, x509
from pyhanko.sign.general import match_issuer_serial
from pyhanko.sign.validation.generic_cms import (
    extract_self_reported_ts,
)

from docflow_shared.errors import Unprocessable
from docflow_signing.crypto.encoding import der_from_upload
from docflow_signing.crypto.gostoids import gost_algorithm, refuse_unsupported

logger = logging.getLogger(__name__)

PEM_BLOCK = re.compile(rb"-----BEGIN [A-Z0-9 ]+-----(.+?)-----END [A-Z0-9 ]+-----", re.S)
ACCEPTED_DIGESTS = frozenset({"sha256"})


def signature_der(data: bytes) -> bytes:
    """DER bytes of a signature given as DER, PEM (PKCS7/CMS) or base64; 422 otherwise."""
    return der_from_upload(data, PEM_BLOCK, unreadable="The signature is not DER, PEM or base64.",
                           not_der="The signature is not a CMS structure.", slug="signature-unreadable")


@dataclass(frozen=True, slots=True)
class DecodedSignature:
    """A parsed detached CMS signature, seen from one of its signers (``signer_info``)."""

    der: bytes
    signed_data: cms.SignedData
    signer_info: cms.SignerInfo
    digest_algorithm: str
    signature_algorithm: str
    signing_time: datetime | None
    embedded_certs: tuple[x509.Certificate, ...]

    def signer_certificate(self, candidates: Iterable[x509.Certificate] = ()) -> x509.Certificate | None:
        """The certificate the signer info points at: embedded first, then among ``candidates``.

        Two different certificates that both match the signer identifier (a twin with the same
        issuer and serial but another key) are refused: DocFlow and pyHanko could each pick a
        different one, and the signature would be checked with one key and stored under the other.
        """
        try:
            sid = self.signer_info["sid"]
            for pool in (self.embedded_certs, tuple(candidates)):
                found = _distinct(c for c in pool if _matches(sid, c))
                if len(found) > 1:
                    raise Unprocessable("More than one certificate matches the signature's signer identifier.",
                                        slug="signer-ambiguous")
                if found:
                    return found[0]
        except Unprocessable:
            raise
        except Exception as exc:  # any parse failure of untrusted ASN.1 is the sender's fault
            raise Unprocessable("The signature's signer identifier or certificates cannot be read.",
                                slug="signature-unreadable") from exc
        return None

    def matches_signer(self, cert: x509.Certificate) -> bool:
        """Whether ``cert`` matches the signer identifier."""
        return _matches(self.signer_info["sid"], cert)


def _distinct(certs: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    """``certs`` without byte-for-byte repeats, in order."""
    seen: dict[bytes, x509.Certificate] = {}
    for cert in certs:
        seen.setdefault(cert.dump(), cert)
    return list(seen.values())


def points_at(signer_info: cms.SignerInfo, cert: x509.Certificate) -> bool:
    """Whether ``signer_info``'s signer identifier names ``cert``."""
    return _matches(signer_info["sid"], cert)


def _matches(sid: cms.SignerIdentifier, cert: x509.Certificate) -> bool:
    if sid.name == "issuer_and_serial_number":
        return bool(match_issuer_serial(sid.chosen, cert))
    if sid.name == "subject_key_identifier":
        return bool(cert.key_identifier == sid.chosen.native)
    return False


@dataclass(frozen=True, slots=True)
class UnsupportedSigner:
    """A signer of a co-signed CMS whose algorithm DocFlow does not verify, and why."""

    signer_info: cms.SignerInfo
    signature_algorithm: str
    digest_algorithm: str
    reason: str


@dataclass(frozen=True, slots=True)
class DecodedSigners:
    """Every signer of a detached CMS: those DocFlow verifies, in order, and those it cannot."""

    supported: tuple[DecodedSignature, ...]
    unsupported: tuple[UnsupportedSigner, ...]


def decode_signature(data: bytes) -> DecodedSignature:
    """Parse a detached CMS signature with exactly one signer; 422 with the reason otherwise."""
    signers = decode_signers(data)
    if len(signers.supported) + len(signers.unsupported) != 1:
        raise Unprocessable("The signature must have exactly one signer.", slug="signature-unreadable")
    return signers.supported[0]


def decode_signers(data: bytes) -> DecodedSigners:
    """Parse a detached CMS signature with one signer or several (co-signatures, as NCALayer adds them).

    Each signer is checked on its own: one whose algorithm DocFlow does not verify is named in
    ``unsupported``. 422 when the CMS cannot be read, or when no signer at all can be verified
    (the reason of the first one then).
    """
    der = signature_der(data)
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise Unprocessable("The CMS structure is not SignedData.", slug="signature-unreadable")
        signed_data: cms.SignedData = info["content"]
        signer_infos = list(signed_data["signer_infos"])
        if not signer_infos:
            raise Unprocessable("The signature has no signer.", slug="signature-unreadable")
        if signed_data["encap_content_info"]["content"].native is not None:
            raise Unprocessable("Upload a detached signature (without the signed content).",
                                slug="signature-not-detached")
        certs = tuple(
            c.chosen for c in (signed_data["certificates"] or []) if c.name == "certificate"
        )
        for cert in certs:
            cert.dump()
        decoded = [
            DecodedSignature(
                der=der, signed_data=signed_data, signer_info=signer_info,
                digest_algorithm=str(signer_info["digest_algorithm"]["algorithm"].native),
                signature_algorithm=str(signer_info["signature_algorithm"]["algorithm"].native),
                signing_time=extract_self_reported_ts(signer_info), embedded_certs=certs,
            )
            for signer_info in signer_infos
        ]
    except Unprocessable:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise Unprocessable("The signature is not a readable CMS structure.",
                            slug="signature-unreadable") from exc
    supported: list[DecodedSignature] = []
    unsupported: list[UnsupportedSigner] = []
    refusals: list[Unprocessable] = []
    for one in decoded:
        try:
            _check_algorithms(one.signature_algorithm, one.digest_algorithm)
        except Unprocessable as exc:
            refusals.append(exc)
            unsupported.append(UnsupportedSigner(one.signer_info, one.signature_algorithm, one.digest_algorithm,
                                                 str(exc.detail)))
            continue
        supported.append(one)
    if not supported:
        raise refusals[0]
    return DecodedSigners(tuple(supported), tuple(unsupported))


def _check_algorithms(signature_algorithm: str, digest_algorithm: str) -> None:
    """422 naming a signature or digest algorithm DocFlow does not verify."""
    refuse_unsupported(signature_algorithm, digest_algorithm)
    gost = gost_algorithm(signature_algorithm)
    if gost is not None:
        if digest_algorithm != gost.digest_oid:
            raise Unprocessable(f"The GOST signature uses digest {digest_algorithm}; {gost.digest_name} "
                                f"({gost.digest_oid}) is required.", slug="signature-digest")
        return
    if digest_algorithm not in ACCEPTED_DIGESTS:
        raise Unprocessable(f"The signature uses digest {digest_algorithm}; SHA-256 is required.",
                            slug="signature-digest")
