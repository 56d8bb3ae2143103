"""Detached CMS (PKCS#7) signatures: decoding what users upload and verifying it with pyHanko.

DocFlow never sees the signed file here: it knows the file's SHA-256 from its projection, and
a CMS signature with signed attributes signs exactly that digest (the ``messageDigest``
attribute), so the signature is verified over the signed attributes and the digest compared.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from asn1crypto import cms, x509
from pyhanko.sign.general import match_issuer_serial
from pyhanko.sign.validation.generic_cms import async_validate_cms_signature, extract_self_reported_ts
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureStatus

from docflow_shared.errors import Unprocessable
from docflow_signing.crypto.certificates import SIGNING_KEY_USAGES, now_utc
from docflow_signing.crypto.encoding import der_from_upload
from docflow_signing.crypto.trust import TrustStore

logger = logging.getLogger(__name__)

SIGNING_USAGE = KeyUsageConstraints(key_usage=set(SIGNING_KEY_USAGES), match_all_key_usages=False)
PEM_BLOCK = re.compile(rb"-----BEGIN [A-Z0-9 ]+-----(.+?)-----END [A-Z0-9 ]+-----", re.S)
ACCEPTED_DIGESTS = frozenset({"sha256"})

NO_CHAIN = "NO_CERTIFICATE_CHAIN_FOUND"
TRUST_PROBLEMS = {
    "NO_CERTIFICATE_CHAIN_FOUND": "The signer certificate does not chain to a trusted CA.",
    "OUT_OF_BOUNDS_NO_POE": "The signer certificate was not valid at the signing time.",
    "OUT_OF_BOUNDS_NOT_REVOKED": "The signer certificate was not valid at the signing time.",
    "NOT_YET_VALID": "The signer certificate was not yet valid at the signing time.",
    "CHAIN_CONSTRAINTS_FAILURE": "The signer certificate may not be used for signing.",
    "REVOKED_NO_POE": "The signer certificate is revoked.",
    "REVOKED_CA_NO_POE": "A CA certificate in the chain is revoked.",
    "CRYPTO_CONSTRAINTS_FAILURE": "The signature uses an algorithm that is not allowed.",
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": "The signature uses an algorithm that is not allowed.",
    "TRY_LATER": "Revocation information is not available; try later.",
}


def signature_der(data: bytes) -> bytes:
    """DER bytes of a signature given as DER, PEM (PKCS7/CMS) or base64; 422 otherwise."""
    return der_from_upload(data, PEM_BLOCK, unreadable="The signature is not DER, PEM or base64.",
                           not_der="The signature is not a CMS structure.", slug="signature-unreadable")


@dataclass(frozen=True, slots=True)
class DecodedSignature:
    """A parsed detached CMS signature with its one signer."""

    der: bytes
    signed_data: cms.SignedData
    signer_info: cms.SignerInfo
    digest_algorithm: str
    signature_algorithm: str
    signing_time: datetime | None
    embedded_certs: tuple[x509.Certificate, ...]

    def signer_certificate(self, candidates: Iterable[x509.Certificate] = ()) -> x509.Certificate | None:
        """The certificate the signer info points at: embedded first, then among ``candidates``."""
        try:
            sid = self.signer_info["sid"]
            for cert in (*self.embedded_certs, *candidates):
                if _matches(sid, cert):
                    return cert
        except Exception as exc:  # any parse failure of untrusted ASN.1 is the sender's fault
            raise Unprocessable("The signature's signer identifier or certificates cannot be read.",
                                slug="signature-unreadable") from exc
        return None


def _matches(sid: cms.SignerIdentifier, cert: x509.Certificate) -> bool:
    if sid.name == "issuer_and_serial_number":
        return bool(match_issuer_serial(sid.chosen, cert))
    if sid.name == "subject_key_identifier":
        return bool(cert.key_identifier == sid.chosen.native)
    return False


def decode_signature(data: bytes) -> DecodedSignature:
    """Parse a detached CMS signature with exactly one signer; 422 with the reason otherwise."""
    der = signature_der(data)
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise Unprocessable("The CMS structure is not SignedData.", slug="signature-unreadable")
        signed_data: cms.SignedData = info["content"]
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) != 1:
            raise Unprocessable("The signature must have exactly one signer.", slug="signature-unreadable")
        if signed_data["encap_content_info"]["content"].native is not None:
            raise Unprocessable("Upload a detached signature (without the signed content).",
                                slug="signature-not-detached")
        signer_info = signer_infos[0]
        digest_algorithm = str(signer_info["digest_algorithm"]["algorithm"].native)
        certs = tuple(
            c.chosen for c in (signed_data["certificates"] or []) if c.name == "certificate"
        )
        decoded = DecodedSignature(
            der=der,
            signed_data=signed_data,
            signer_info=signer_info,
            digest_algorithm=digest_algorithm,
            signature_algorithm=str(signer_info["signature_algorithm"]["algorithm"].native),
            signing_time=extract_self_reported_ts(signer_info),
            embedded_certs=certs,
        )
        for cert in certs:
            cert.dump()
    except Unprocessable:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise Unprocessable("The signature is not a readable CMS structure.",
                            slug="signature-unreadable") from exc
    if digest_algorithm not in ACCEPTED_DIGESTS:
        raise Unprocessable(f"The signature uses digest {digest_algorithm}; SHA-256 is required.",
                            slug="signature-digest")
    return decoded


@dataclass(slots=True)
class VerificationReport:
    """The outcome of verifying one signature against a digest and the trust store."""

    intact: bool
    valid: bool
    trusted: bool
    signer_subject: str
    signer_issuer: str
    signer_serial_number: str
    signer_fingerprint_sha256: str
    signing_time: datetime | None
    validated_at: datetime
    digest_algorithm: str
    signature_algorithm: str
    chain: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    trust_indication: str | None = None

    @property
    def sound(self) -> bool:
        """Intact and cryptographically valid (trust aside)."""
        return self.intact and self.valid

    def to_document(self) -> dict[str, Any]:
        return {
            "intact": self.intact, "valid": self.valid, "trusted": self.trusted,
            "signer_subject": self.signer_subject, "signer_issuer": self.signer_issuer,
            "signer_serial_number": self.signer_serial_number,
            "signer_fingerprint_sha256": self.signer_fingerprint_sha256,
            "signing_time": self.signing_time, "validated_at": self.validated_at,
            "digest_algorithm": self.digest_algorithm, "signature_algorithm": self.signature_algorithm,
            "chain": list(self.chain), "problems": list(self.problems),
            "trust_indication": self.trust_indication,
        }


def with_certificates(signed_data: cms.SignedData, extra: Sequence[x509.Certificate]) -> cms.SignedData:
    """A copy of ``signed_data`` that also carries ``extra`` certificates."""
    present = [c.chosen for c in (signed_data["certificates"] or []) if c.name == "certificate"]
    known = {c.sha256 for c in present}
    merged = present + [c for c in extra if c.sha256 not in known]
    copy = cms.SignedData({
        name: signed_data[name] for name in ("version", "digest_algorithms", "encap_content_info", "signer_infos")
    })
    copy["certificates"] = cms.CertificateSet(
        [cms.CertificateChoices(name="certificate", value=c) for c in merged]
    )
    return copy


def signing_moment(decoded: DecodedSignature, *, skew_seconds: int) -> datetime:
    """When the signature says it was made (``signingTime``), else now; 422 if in the future."""
    now = now_utc()
    claimed = decoded.signing_time
    if claimed is None:
        return now
    if claimed > now + timedelta(seconds=skew_seconds):
        raise Unprocessable("The signing time lies in the future.", slug="signature-time")
    return min(claimed, now)


async def verify_digest(
    decoded: DecodedSignature,
    digest: bytes,
    trust: TrustStore,
    *,
    signer_cert: x509.Certificate,
    moment: datetime,
) -> VerificationReport:
    """Verify ``decoded`` over ``digest`` (SHA-256 of the content) with pyHanko, trust at ``moment``."""
    try:
        signed_data = decoded.signed_data
        if signer_cert not in decoded.embedded_certs:
            signed_data = with_certificates(signed_data, [signer_cert])
        others = [c for c in decoded.embedded_certs if c.sha256 != signer_cert.sha256]
        status = await async_validate_cms_signature(
            signed_data, raw_digest=digest,
            validation_context=trust.context(moment, others),
            key_usage_settings=SIGNING_USAGE,
        )
        return _report(status, decoded, signer_cert, moment)
    except Exception as exc:  # any failure on untrusted ASN.1 or keys is the sender's fault, not a 500
        logger.info("signature verification failed: %r", exc)
        raise Unprocessable("The signature cannot be verified: it is malformed or uses an unsupported "
                            "algorithm.", slug="signature-invalid") from exc


def _report(status: SignatureStatus, decoded: DecodedSignature, signer_cert: x509.Certificate,
            moment: datetime) -> VerificationReport:
    problems: list[str] = []
    if not status.valid:
        problems.append("The signature value does not match the signer certificate.")
    elif not status.intact:
        problems.append("The signature was made over different content.")
    indication = status.trust_problem_indic
    trusted = status.valid and status.intact and indication is None
    name = None if indication is None else str(getattr(indication, "name", indication))
    if name is not None and status.valid and status.intact:
        problems.append(TRUST_PROBLEMS.get(name, f"The signer certificate is not trusted ({name})."))
    path = status.validation_path
    chain = [c.subject.human_friendly for c in path.iter_certs(include_root=True)] if path and trusted else []
    return VerificationReport(
        intact=bool(status.intact), valid=bool(status.valid), trusted=trusted,
        signer_subject=signer_cert.subject.human_friendly,
        signer_issuer=signer_cert.issuer.human_friendly,
        signer_serial_number=format(signer_cert.serial_number, "x"),
        signer_fingerprint_sha256=hashlib.sha256(signer_cert.dump()).hexdigest(),
        signing_time=decoded.signing_time, validated_at=moment,
        digest_algorithm=decoded.digest_algorithm, signature_algorithm=decoded.signature_algorithm,
        chain=chain, problems=problems, trust_indication=name,
    )
