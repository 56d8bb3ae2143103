"""Verifying a decoded detached CMS signature with pyHanko, and the report of what was found.

DocFlow never sees the signed file here: it knows the file's SHA-256 from its projection, and
a CMS signature with signed attributes signs exactly that digest (the ``messageDigest``
attribute), so the signature is verified over the signed attributes and the digest compared.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import cms, x509
from pyhanko.sign.validation.generic_cms import (
    async_validate_cms_signature,
)
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureStatus

from docflow_shared.errors import Unprocessable
from docflow_signing.crypto.certificates import SIGNING_KEY_USAGES
from docflow_signing.crypto.cms import DecodedSignature
from docflow_signing.crypto.signing_times import SigningTimes
from docflow_signing.crypto.trust import TrustStore, release

logger = logging.getLogger(__name__)

SIGNING_USAGE = KeyUsageConstraints(key_usage=set(SIGNING_KEY_USAGES), match_all_key_usages=False)

NO_CHAIN = "NO_CERTIFICATE_CHAIN_FOUND"
TRUST_PROBLEMS = {
    "NO_CERTIFICATE_CHAIN_FOUND": "The signer certificate does not chain to a trusted CA.",
    "OUT_OF_BOUNDS_NO_POE": "The signer certificate was not valid at the signing time.",
    "OUT_OF_BOUNDS_NOT_REVOKED": "The signer certificate was not valid at the signing time.",
    "NOT_YET_VALID": "The signer certificate was not yet valid at the signing time.",
    "EXPIRED": "The signer certificate was not valid at the signing time.",
    "CHAIN_CONSTRAINTS_FAILURE": "The signer certificate may not be used for signing.",
    "REVOKED_NO_POE": "The signer certificate is revoked.",
    "REVOKED_CA_NO_POE": "A CA certificate in the chain is revoked.",
    "CRYPTO_CONSTRAINTS_FAILURE": "The signature uses an algorithm that is not allowed.",
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": "The signature uses an algorithm that is not allowed.",
    "TRY_LATER": "Revocation information is not available; try later.",
}


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
    times: SigningTimes
    digest_algorithm: str
    signature_algorithm: str
    chain: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    trust_indication: str | None = None
    kz_signer: dict[str, Any] | None = None
    revocation: dict[str, Any] | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "intact": self.intact, "valid": self.valid, "trusted": self.trusted,
            "signer_subject": self.signer_subject, "signer_issuer": self.signer_issuer,
            "signer_serial_number": self.signer_serial_number,
            "signer_fingerprint_sha256": self.signer_fingerprint_sha256,
            "signing_time": self.times.moment, "validated_at": self.times.moment,
            "time_basis": self.times.basis, "received_at": self.times.received_at,
            "claimed_signing_time": self.times.claimed, "timestamp_time": self.times.timestamp,
            "timestamp_problem": self.times.timestamp_problem,
            "digest_algorithm": self.digest_algorithm, "signature_algorithm": self.signature_algorithm,
            "chain": list(self.chain), "problems": list(self.problems),
            "trust_indication": self.trust_indication, "kz_signer": self.kz_signer,
            "revocation": self.revocation,
        }


def only_signer(decoded: DecodedSignature, signer_cert: x509.Certificate) -> cms.SignedData:
    """``decoded``'s SignedData whose only certificate matching the signer identifier is ``signer_cert``.

    pyHanko takes the last embedded certificate that matches; with this set it can take no other
    than the one DocFlow tied to the caller.
    """
    kept = [c for c in decoded.embedded_certs if not decoded.matches_signer(c)]
    copy = cms.SignedData({
        name: decoded.signed_data[name] for name in ("version", "digest_algorithms", "encap_content_info")
    })
    copy["signer_infos"] = cms.SignerInfos([decoded.signer_info])  # pyHanko checks one signer: this one
    copy["certificates"] = cms.CertificateSet(
        [cms.CertificateChoices(name="certificate", value=c) for c in [signer_cert, *kept]]
    )
    return copy


async def verify_digest(
    decoded: DecodedSignature,
    digest: bytes,
    trust: TrustStore,
    *,
    signer_cert: x509.Certificate,
    times: SigningTimes,
) -> VerificationReport:
    """Verify ``decoded`` over ``digest`` (SHA-256 of the content) with pyHanko, trust at ``times.moment``."""
    try:
        signed_data = only_signer(decoded, signer_cert)
        others = [c for c in decoded.embedded_certs if c.sha256 != signer_cert.sha256]
        context = trust.context(times.moment, others)
        try:
            status = await async_validate_cms_signature(
                signed_data, raw_digest=digest, validation_context=context, key_usage_settings=SIGNING_USAGE,
            )
        finally:
            await release(context)
        if status.signing_cert.dump() != signer_cert.dump():
            raise Unprocessable("The signature was checked with another certificate than its signer's.",
                                slug="signer-ambiguous")
        return status_report(status, decoded, signer_cert, times)
    except Unprocessable:
        raise
    except Exception as exc:  # any failure on untrusted ASN.1 or keys is the sender's fault, not a 500
        logger.info("signature verification failed: %r", exc)
        raise Unprocessable("The signature cannot be verified: it is malformed or uses an unsupported "
                            "algorithm.", slug="signature-invalid") from exc


def status_report(status: SignatureStatus, decoded: DecodedSignature, signer_cert: x509.Certificate,
                  times: SigningTimes) -> VerificationReport:
    """The report of pyHanko's ``status`` of ``decoded``'s signer (a detached CMS, or one inside a PDF)."""
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
        times=times,
        digest_algorithm=decoded.digest_algorithm, signature_algorithm=decoded.signature_algorithm,
        chain=chain, problems=problems, trust_indication=name,
    )
