"""Each signer of a co-signed CMS (several SignerInfos, as NCALayer and Kazakh signing servers add
them): verified on its own and reported, a signer whose algorithm DocFlow does not verify named."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509

from docflow_shared.errors import Unprocessable
from docflow_signing.crypto import kzgost
from docflow_signing.crypto.cms import DecodedSignature, UnsupportedSigner, points_at
from docflow_signing.crypto.gostoids import gost_algorithm
from docflow_signing.crypto.kzsubject import kz_signer
from docflow_signing.crypto.signing_times import SigningTimes, signing_times
from docflow_signing.crypto.trust import TrustStore
from docflow_signing.crypto.verification import VerificationReport, verify_digest


async def verify_signer(decoded: DecodedSignature, *, sha256: bytes, streebog: Mapping[int, bytes],
                        trust: TrustStore, signer_cert: asn1_x509.Certificate,
                        times: SigningTimes) -> VerificationReport:
    """One signer's report: GOST by ``kzgost`` (off the event loop) over the content's Streebog of the
    algorithm's size, RSA and ECDSA by pyHanko over its SHA-256."""
    gost = gost_algorithm(decoded.signature_algorithm)
    if gost is not None:
        return await asyncio.to_thread(kzgost.verify_signature, decoded, streebog[gost.digest_bits], trust,
                                       signer_cert=signer_cert, times=times)
    return await verify_digest(decoded, sha256, trust, signer_cert=signer_cert, times=times)


async def co_signer_reports(signers: Sequence[DecodedSignature], unsupported: Sequence[UnsupportedSigner], *,
                            embedded_certs: Sequence[asn1_x509.Certificate], sha256: bytes,
                            streebog: Mapping[int, bytes], trust: TrustStore, received_at: datetime,
                            skew_seconds: int) -> list[dict[str, Any]]:
    """Reports of the other signers, in the CMS's order, then those DocFlow cannot verify.

    A co-signer is checked with the certificate embedded for it; no account is tied to it (only
    the caller's own signer is), so a problem with it is reported, never a refusal.
    """
    reports: list[dict[str, Any]] = []
    for decoded in signers:
        try:
            signer_cert = decoded.signer_certificate()
            if signer_cert is None:
                raise Unprocessable("The co-signer's certificate is not in the signature.", slug="signer-unknown")
            times = await signing_times(decoded, trust, received_at=received_at, skew_seconds=skew_seconds)
            report = await verify_signer(decoded, sha256=sha256, streebog=streebog, trust=trust,
                                         signer_cert=signer_cert, times=times)
            reports.append({"supported": True, **report.to_document()})
        except Unprocessable as exc:
            reports.append(_unverified(embedded_certs, decoded.signer_info, decoded.signature_algorithm,
                                       decoded.digest_algorithm, str(exc.detail), supported=True))
    for signer in unsupported:
        reports.append(_unverified(embedded_certs, signer.signer_info, signer.signature_algorithm,
                                   signer.digest_algorithm, signer.reason, supported=False))
    return reports


def _unverified(embedded_certs: Sequence[asn1_x509.Certificate], signer_info: cms.SignerInfo,
                signature_algorithm: str, digest_algorithm: str, reason: str, *, supported: bool) -> dict[str, Any]:
    """What is known of a signer that was not verified: its algorithms, its certificate if embedded, why."""
    try:
        cert = next((c for c in embedded_certs if points_at(signer_info, c)), None)
    except Exception:  # an unreadable signer identifier: the reason says enough
        cert = None
    return {
        "supported": supported, "intact": False, "valid": False, "trusted": False,
        "signer_subject": cert.subject.human_friendly if cert is not None else None,
        "signer_serial_number": format(cert.serial_number, "x") if cert is not None else None,
        "signature_algorithm": signature_algorithm, "digest_algorithm": digest_algorithm,
        "problems": [reason], "chain": [],
        "kz_signer": kz_signer(cert).to_document() if cert is not None and kz_signer(cert).role else None,
    }
