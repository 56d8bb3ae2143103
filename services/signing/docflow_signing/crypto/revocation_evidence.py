"""Revocation evidence read and checked offline: CRLs and OCSP responses, their signatures, and what
they say about one certificate (docs/architecture.md, "Revocation").

CRLs and OCSP responses are parsed and their RSA/ECDSA signatures checked with ``cryptography``;
GOST CRL signatures with ``kzgost``. Fetching and judging live in ``revocation``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from asn1crypto import core, x509
from asn1crypto import crl as asn1_crl
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from docflow_signing.crypto import kzgost, streebog
from docflow_signing.crypto.gostoids import SIGNATURE_ALGORITHMS

State = Literal["good", "revoked", "unknown"]
OCSP_SKEW = timedelta(minutes=5)
# the key types a CRL signature can be checked with (``CertificateRevocationList.is_signature_valid``)
CrlIssuerKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey


@dataclass(frozen=True, slots=True)
class RevocationStatus:
    """What a revocation source said about one certificate, with the evidence to check it again."""

    state: State
    checked_at: datetime
    source: Literal["ocsp", "crl"] | None = None
    url: str | None = None
    revoked_at: datetime | None = None
    reason: str | None = None
    this_update: datetime | None = None
    next_update: datetime | None = None
    crl_number: int | None = None
    crl_sha256: str | None = None
    ocsp_response: bytes | None = None
    crl_der: bytes | None = None
    problems: tuple[str, ...] = ()
    delta_crl_url: str | None = None
    delta_crl_number: int | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "status": self.state, "checked_at": self.checked_at, "source": self.source, "url": self.url,
            "revoked_at": self.revoked_at, "reason": self.reason, "this_update": self.this_update,
            "next_update": self.next_update, "crl_number": self.crl_number, "crl_sha256": self.crl_sha256,
            "delta_crl_url": self.delta_crl_url, "delta_crl_number": self.delta_crl_number,
            "problems": list(self.problems),
        }


@dataclass(frozen=True, slots=True)
class Crl:
    """A fetched CRL whose signature has been checked against its issuer."""

    der: bytes
    sha256: str
    number: int | None
    this_update: datetime
    next_update: datetime | None
    revoked: Mapping[int, tuple[datetime, str | None]]
    issuer: bytes
    """DER of the CA certificate the signature was checked with: a cached CRL serves only that issuer."""
    delta_base: int | None = None
    """A delta CRL's BaseCRLNumber (deltaCRLIndicator); None for a complete CRL."""
    freshest: tuple[str, ...] = ()
    """Where the delta CRLs of this complete CRL are (its freshestCRL extension)."""

    def entry(self, serial: int) -> tuple[datetime, str | None] | None:
        return self.revoked.get(serial)


class RevocationError(Exception):
    """A source that gave no usable answer; the message says why (reported, never raised to clients)."""


def is_gost(cert: x509.Certificate) -> bool:
    return cert["signature_algorithm"]["algorithm"].dotted in SIGNATURE_ALGORITHMS


def has_gost_key(cert: x509.Certificate) -> bool:
    try:
        kzgost.public_key(cert)
    except (ValueError, TypeError, KeyError, IndexError):
        return False
    return True


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer`` names and signed ``cert`` (RSA, ECDSA, EdDSA or Kazakh GOST)."""
    if cert.issuer != issuer.subject:
        return False
    if is_gost(cert):
        return kzgost.issued_by(cert, issuer)
    try:
        cx509.load_der_x509_certificate(cert.dump()).verify_directly_issued_by(
            cx509.load_der_x509_certificate(issuer.dump()))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def find_issuer(cert: x509.Certificate, pool: Iterable[x509.Certificate]) -> x509.Certificate | None:
    """The certificate of ``pool`` that issued ``cert``, if any."""
    return next((c for c in pool if issued_by(cert, c)), None)


def _verify_with(public_key: Any, signature: bytes, data: bytes, algorithm: hashes.HashAlgorithm | None) -> bool:
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and algorithm is not None:
            public_key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and algorithm is not None:
            public_key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            public_key.verify(signature, data)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def load_crl(der: bytes, issuer: x509.Certificate) -> Crl:
    """Parse ``der`` and check that ``issuer`` issued and signed it; RevocationError otherwise."""
    try:
        parsed = asn1_crl.CertificateList.load(der, strict=True)
        tbs = parsed["tbs_cert_list"]
        if tbs["issuer"] != issuer.subject:
            raise RevocationError("The CRL was issued by another CA than the certificate.")
        if parsed["signature_algorithm"]["algorithm"].dotted in SIGNATURE_ALGORITHMS:
            signed = kzgost.verify_value(kzgost.public_key(issuer), tbs.dump(), parsed["signature"].native)
        else:
            issuer_key = cx509.load_der_x509_certificate(issuer.dump()).public_key()
            signed = cx509.load_der_x509_crl(der).is_signature_valid(cast(CrlIssuerKey, issuer_key))
        if not signed:
            raise RevocationError("The CRL's signature does not verify with its issuer's key.")
        revoked: dict[int, tuple[datetime, str | None]] = {}
        entries = tbs["revoked_certificates"]
        for entry in [] if isinstance(entries, core.Void) else entries:
            reason = entry.crl_reason_value
            revoked[int(entry["user_certificate"].native)] = (
                entry["revocation_date"].native, None if reason is None else str(reason.native))
        number = parsed.crl_number_value
        next_update = tbs["next_update"].native
        base = parsed.delta_crl_indicator_value
        return Crl(der=der, sha256=hashlib.sha256(der).hexdigest(),
                   number=None if number is None else int(number.native),
                   this_update=tbs["this_update"].native, next_update=next_update, revoked=revoked,
                   issuer=issuer.dump(), delta_base=None if base is None else int(base.native),
                   freshest=tuple(d.url for d in parsed.delta_crl_distribution_points if d.url))
    except RevocationError:
        raise
    except streebog.GostUnavailable as exc:
        raise RevocationError(str(exc)) from exc
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise RevocationError(f"The CRL cannot be read: {exc}.") from exc


def verify_ocsp(der: bytes, cert: x509.Certificate, issuer: x509.Certificate, *,
                nonce: bytes | None, now: datetime) -> ocsp.OCSPResponse:
    """Parse an OCSP response for ``cert`` and check it: signer, signature, certificate id, nonce and freshness."""
    try:
        response = ocsp.load_der_ocsp_response(der)
    except ValueError as exc:
        raise RevocationError(f"The OCSP response cannot be read: {exc}.") from exc
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise RevocationError(f"The OCSP responder answered {response.response_status.name.lower()}.")
    issuer_c = cx509.load_der_x509_certificate(issuer.dump())
    expected = ocsp.OCSPRequestBuilder().add_certificate(
        cx509.load_der_x509_certificate(cert.dump()), issuer_c, response.hash_algorithm).build()
    if (response.serial_number != expected.serial_number
            or response.issuer_key_hash != expected.issuer_key_hash
            or response.issuer_name_hash != expected.issuer_name_hash):
        raise RevocationError("The OCSP response is about another certificate.")
    if not _ocsp_signed(response, issuer_c):
        raise RevocationError("The OCSP response is not signed by the CA or a responder it authorised.")
    if nonce is not None:
        try:
            answered = response.extensions.get_extension_for_class(cx509.OCSPNonce).value.nonce
        except cx509.ExtensionNotFound:
            answered = None
        if answered is not None and answered != nonce:
            raise RevocationError("The OCSP response carries another request's nonce.")
    if response.this_update_utc > now + OCSP_SKEW:
        raise RevocationError("The OCSP response is dated in the future.")
    if response.next_update_utc is not None and response.next_update_utc < now - OCSP_SKEW:
        raise RevocationError("The OCSP response is out of date.")
    return response


def _ocsp_signed(response: ocsp.OCSPResponse, issuer: cx509.Certificate) -> bool:
    data, signature, algorithm = response.tbs_response_bytes, response.signature, response.signature_hash_algorithm
    if _verify_with(issuer.public_key(), signature, data, algorithm):
        return True
    for delegate in response.certificates:
        try:
            delegate.verify_directly_issued_by(issuer)
            usage = delegate.extensions.get_extension_for_class(cx509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, cx509.ExtensionNotFound):
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING in usage and _verify_with(delegate.public_key(), signature, data,
                                                                       algorithm):
            return True
    return False


def check_delta(complete: Crl, delta: Crl, now: datetime) -> None:
    """RevocationError unless ``delta`` is a current delta CRL that may be applied to ``complete``
    (RFC 5280, 5.2.4: its BaseCRLNumber no newer than the complete CRL, its own number newer)."""
    if delta.delta_base is None:
        raise RevocationError("It is not a delta CRL (no deltaCRLIndicator).")
    if complete.number is None:
        raise RevocationError("The complete CRL has no number to apply a delta CRL to.")
    if delta.delta_base > complete.number:
        raise RevocationError(f"It builds on complete CRL {delta.delta_base}, newer than the one fetched "
                              f"({complete.number}).")
    if delta.number is None or delta.number <= complete.number:
        raise RevocationError("It is not newer than the complete CRL.")
    if delta.next_update is not None and delta.next_update < now:
        raise RevocationError("It is out of date (its nextUpdate has passed).")


def crl_status(crl: Crl, cert: x509.Certificate, url: str | None, now: datetime, *, delta: Crl | None = None,
               delta_url: str | None = None) -> RevocationStatus:
    """What ``crl`` (already checked against the issuer) says about ``cert``, updated by ``delta`` (a
    delta CRL checked with ``check_delta``): listed there, it is revoked; listed there as
    ``remove_from_crl``, a hold of the complete CRL is lifted."""
    common: dict[str, Any] = {"source": "crl", "url": url, "this_update": crl.this_update,
                              "next_update": crl.next_update, "crl_number": crl.number, "crl_sha256": crl.sha256,
                              "crl_der": crl.der}
    entry = crl.entry(int(cert.serial_number))
    if delta is not None:
        common.update(delta_crl_url=delta_url, delta_crl_number=delta.number)
        update = delta.entry(int(cert.serial_number))
        if update is not None:
            entry = None if update[1] == "remove_from_crl" else update
    if entry is not None:
        return RevocationStatus("revoked", now, revoked_at=entry[0], reason=entry[1], **common)
    if crl.next_update is not None and crl.next_update < now:
        return RevocationStatus("unknown", now, problems=("The CRL is out of date (its nextUpdate has passed).",),
                                **common)
    return RevocationStatus("good", now, **common)


def ocsp_status(response: ocsp.OCSPResponse, der: bytes, url: str | None, now: datetime) -> RevocationStatus:
    common: dict[str, Any] = {"source": "ocsp", "url": url, "this_update": response.this_update_utc,
                              "next_update": response.next_update_utc, "ocsp_response": der}
    if response.certificate_status == ocsp.OCSPCertStatus.REVOKED:
        reason = response.revocation_reason
        return RevocationStatus("revoked", now, revoked_at=response.revocation_time_utc,
                                reason=None if reason is None else reason.name, **common)
    if response.certificate_status == ocsp.OCSPCertStatus.UNKNOWN:
        return RevocationStatus("unknown", now, problems=("The OCSP responder does not know the certificate.",),
                                **common)
    return RevocationStatus("good", now, **common)


def recheck(cert: x509.Certificate, issuer: x509.Certificate, *, ocsp_response: bytes | None = None,
            crl_der: bytes | None = None, now: datetime | None = None) -> RevocationStatus:
    """The status stored evidence shows, checked again offline (LTV): its signature, subject and answer.

    ``now`` is the time the evidence was fetched at (freshness is judged then, not today).
    """
    when = now or datetime.now(UTC)
    if ocsp_response is not None:
        return ocsp_status(verify_ocsp(ocsp_response, cert, issuer, nonce=None, now=when), ocsp_response, None,
                            when)
    if crl_der is not None:
        return crl_status(load_crl(crl_der, issuer), cert, None, when)
    raise RevocationError("There is no revocation evidence to check.")
