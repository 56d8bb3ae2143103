"""Signatures embedded in a PDF (PAdES, adbe.pkcs7.detached) and document timestamps, verified with pyHanko.

Each signature field is reported like a detached CMS signature (``crypto.verification``): signer,
chain to the trust store, the time it is judged at (receipt, or an earlier trusted RFC 3161
signature timestamp, ``crypto.signing_times``), and revocation when checking is on
(``crypto.revocation``). On top of that it says what the signature covers: the whole file, or
only a revision that later incremental updates extend, and how far those updates go (pyHanko's
difference analysis). A Kazakh or Russian GOST signature is verified by ``crypto.kzgost`` over the
Streebog of the signed byte ranges, since pyHanko cannot read GOST keys.

Parsing and difference analysis are CPU work on untrusted input: :func:`read_signatures` runs them
in a worker thread with an event loop of its own; revocation is fetched afterwards on the caller's
loop (its CRL cache and locks live there).
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.generic_cms import extract_self_reported_ts
from pyhanko.sign.validation.pdf_embedded import (
    EmbeddedPdfSignature,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.status import ModificationInfo, SignatureCoverageLevel

from docflow_shared.errors import Unprocessable
from docflow_signing.crypto import kzgost, streebog
from docflow_signing.crypto.cms import DecodedSignature
from docflow_signing.crypto.gostoids import gost_algorithm, refuse_unsupported
from docflow_signing.crypto.pades_report import PdfSignature, PdfSignatures
from docflow_signing.crypto.revocation import RevocationPolicy
from docflow_signing.crypto.signing_times import SigningTimes, proven_time
from docflow_signing.crypto.trust import TrustStore, release
from docflow_signing.crypto.verification import SIGNING_USAGE, VerificationReport, status_report

logger = logging.getLogger(__name__)

#: Modification levels past which a later update is reported as a problem of the signature:
#: adding signatures, form filling and LTV data (DSS, document timestamps) are what signed PDFs are for.
HARMLESS_LEVELS = frozenset({"NONE", "LTA_UPDATES", "FORM_FILLING"})


class _Integrity(Protocol):
    """``EmbeddedPdfSignature.compute_integrity_info`` as it behaves: pyHanko leaves it unannotated."""

    def compute_integrity_info(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _Stores:
    trust: TrustStore
    tsa_trust: TrustStore
    received_at: datetime
    skew_seconds: int


async def read_signatures(data: bytes, *, trust: TrustStore, tsa_trust: TrustStore, received_at: datetime,
                          skew_seconds: int, revocation: RevocationPolicy | None = None) -> PdfSignatures:
    """Verify every signature of the PDF ``data``; 422 ``pdf-unreadable`` when it is not a readable PDF."""
    stores = _Stores(trust, tsa_trust, received_at, skew_seconds)
    found = await asyncio.to_thread(asyncio.run, _verify_all(data, stores))
    if revocation is not None:
        for signature in found.signatures:
            report = signature.report
            if report is not None and report.valid and report.intact and signature.signer_cert is not None:
                await revocation.apply(report, signature.signer_cert, [*signature.pool, *trust.roots],
                                       report.times.moment, refuse=False)
                signature.trusted = report.trusted
    return found


def _open(data: bytes) -> tuple[PdfFileReader, list[EmbeddedPdfSignature]]:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        return reader, list(reader.embedded_signatures)
    except Exception as exc:  # whatever pyHanko trips over in an upload is the sender's fault, never a 500
        logger.info("PDF unreadable: %r", exc)
        raise Unprocessable("The file is not a readable PDF (or one of its signatures cannot be read).",
                            slug="pdf-unreadable") from exc


async def _verify_all(data: bytes, stores: _Stores) -> PdfSignatures:
    reader, embedded = _open(data)
    try:
        revisions = int(reader.xrefs.total_revisions)
        signatures = [await _verify_one(emb, data, revisions, stores) for emb in embedded]
    except (Unprocessable, streebog.GostUnavailable):
        raise
    except Exception as exc:  # a field pyHanko read but whose parts are malformed: still the sender's fault
        logger.info("PDF signature field unreadable: %r", exc)
        raise Unprocessable("A signature field of the PDF cannot be read.", slug="pdf-unreadable") from exc
    signatures.sort(key=lambda s: s.signed_revision)
    return PdfSignatures(revisions=revisions, signatures=signatures)


async def _verify_one(emb: EmbeddedPdfSignature, data: bytes, revisions: int, stores: _Stores) -> PdfSignature:
    signer_info = emb.signer_info
    signature = PdfSignature(
        field_name=str(emb.field_name), signed_revision=int(emb.signed_revision),
        later_revisions=revisions - 1 - int(emb.signed_revision),
        kind="document_timestamp" if emb.sig_object_type == "/DocTimeStamp" else "signature",
        coverage=None, modification_level=None, modifications_permitted=None,
        signature_algorithm=str(signer_info["signature_algorithm"]["algorithm"].native),
        digest_algorithm=str(signer_info["digest_algorithm"]["algorithm"].native),
    )
    try:
        if signature.kind == "document_timestamp":
            await _document_timestamp(emb, signature, stores)
        elif gost_algorithm(signature.signature_algorithm or "") is not None:
            await _gost(emb, signature, data, stores)
        else:
            refuse_unsupported(signature.signature_algorithm or "", signature.digest_algorithm or "")
            await _cms(emb, signature, stores)
    except streebog.GostUnavailable:
        raise
    except Exception as exc:  # one signature that cannot be verified is reported, the others still are
        detail = exc.detail if isinstance(exc, Unprocessable) else "The signature cannot be verified."
        logger.info("PDF signature %s not verified: %r", signature.field_name, exc)
        signature.supported = not (isinstance(exc, Unprocessable) and exc.slug == "signature-algorithm")
        signature.problems.append(str(detail))
        if signature.signer_cert is None and signature.kind == "signature":
            signature.signer_cert = _embedded_signer(emb)
        _integrity_only(emb, signature)
    if signature.modification_level is not None and signature.modification_level not in HARMLESS_LEVELS:
        signature.problems.append(f"The document was changed after this signature "
                                  f"({signature.later_revisions} later revision(s), "
                                  f"modification level {signature.modification_level}).")
    elif signature.modifications_permitted is False:
        signature.problems.append("The document was changed after this signature in a way its "
                                  "certification does not permit.")
    return signature


def _modification(signature: PdfSignature, info: ModificationInfo) -> None:
    coverage, level = info.coverage, info.modification_level
    signature.coverage = coverage.name if isinstance(coverage, SignatureCoverageLevel) else None
    signature.modification_level = level.name if level is not None else None
    signature.modifications_permitted = info.docmdp_ok


def _integrity_only(emb: EmbeddedPdfSignature, signature: PdfSignature) -> None:
    """Coverage and later changes of a signature that could not be verified, when pyHanko can tell."""
    try:
        cast(_Integrity, emb).compute_integrity_info()
        integrity = emb.summarise_integrity_info()
        _modification(signature, ModificationInfo(coverage=integrity.get("coverage"),
                                                  diff_result=integrity.get("diff_result"),
                                                  docmdp_ok=integrity.get("docmdp_ok")))
    except Exception as exc:  # the problem already recorded says enough
        logger.info("PDF signature %s coverage unknown: %r", signature.field_name, exc)


def _embedded_signer(emb: EmbeddedPdfSignature) -> x509.Certificate | None:
    """The certificate the signer identifier points at, if the CMS carries it and it can be read."""
    try:
        return emb.signer_cert
    except Exception:  # an unreadable or missing certificate: the problem already recorded says enough
        return None


def _decoded(emb: EmbeddedPdfSignature, signature: PdfSignature) -> DecodedSignature:
    certs = tuple(c.chosen for c in (emb.signed_data["certificates"] or []) if c.name == "certificate")
    return DecodedSignature(
        der=bytes(emb.pkcs7_content), signed_data=emb.signed_data, signer_info=emb.signer_info,
        digest_algorithm=signature.digest_algorithm or "", signature_algorithm=signature.signature_algorithm or "",
        signing_time=extract_self_reported_ts(emb.signer_info) or emb.self_reported_timestamp,
        embedded_certs=certs,
    )


async def _times(decoded: DecodedSignature, stores: _Stores) -> SigningTimes:
    """Receipt, or the earlier time a trusted signature timestamp proves; a future claimed time only reported."""
    proven, problem = await proven_time(decoded, stores.tsa_trust, received_at=stores.received_at,
                                        skew_seconds=stores.skew_seconds)
    return SigningTimes(received_at=stores.received_at, claimed=decoded.signing_time, timestamp=proven,
                        timestamp_problem=problem)


def _signer(decoded: DecodedSignature, signature: PdfSignature) -> x509.Certificate:
    signer_cert = decoded.signer_certificate()
    if signer_cert is None:
        raise Unprocessable("The signer certificate is not in the signature.", slug="signer-unknown")
    signature.signer_cert = signer_cert
    signature.pool = decoded.embedded_certs
    return signer_cert


def _take(signature: PdfSignature, report: VerificationReport) -> None:
    signature.report = report
    signature.intact, signature.valid, signature.trusted = report.intact, report.valid, report.trusted


async def _cms(emb: EmbeddedPdfSignature, signature: PdfSignature, stores: _Stores) -> None:
    decoded = _decoded(emb, signature)
    signer_cert = _signer(decoded, signature)
    times = await _times(decoded, stores)
    others = [c for c in decoded.embedded_certs if c.sha256 != signer_cert.sha256]
    context, ts_context = stores.trust.context(times.moment, others), stores.tsa_trust.context(stores.received_at)
    try:
        status = await async_validate_pdf_signature(emb, signer_validation_context=context,
                                                    ts_validation_context=ts_context,
                                                    key_usage_settings=SIGNING_USAGE)
    finally:
        await release(context)
        await release(ts_context)
    if status.signing_cert.dump() != signer_cert.dump():
        raise Unprocessable("The signature was checked with another certificate than its signer's.",
                            slug="signer-ambiguous")
    _take(signature, status_report(status, decoded, signer_cert, times))
    signature.timestamp_time = times.timestamp
    _modification(signature, status)


async def _gost(emb: EmbeddedPdfSignature, signature: PdfSignature, data: bytes, stores: _Stores) -> None:
    """A GOST signature: ``kzgost`` over the Streebog of the byte ranges; pyHanko for coverage and updates."""
    algorithm = gost_algorithm(signature.signature_algorithm or "")
    assert algorithm is not None
    decoded = _decoded(emb, signature)
    signer_cert = _signer(decoded, signature)
    times = await _times(decoded, stores)
    hashed = streebog.new(algorithm.digest_bits)
    ranges = [int(n) for n in emb.byte_range]
    for offset, length in zip(ranges[::2], ranges[1::2], strict=True):
        hashed.update(data[offset:offset + length])
    digest = hashed.digest()
    emb.external_digests[emb.external_md_algorithm] = digest  # pyHanko's coverage check reuses it: it has no GOST
    report = await asyncio.to_thread(kzgost.verify_signature, decoded, digest, stores.trust, signer_cert=signer_cert,
                                     times=times)
    _take(signature, report)
    signature.timestamp_time = times.timestamp
    _integrity_only(emb, signature)


async def _document_timestamp(emb: EmbeddedPdfSignature, signature: PdfSignature, stores: _Stores) -> None:
    """A /DocTimeStamp: an RFC 3161 token over the document, judged against the TSA trust store."""
    context = stores.tsa_trust.context(stores.received_at)
    try:
        status = await async_validate_pdf_timestamp(emb, validation_context=context)
    finally:
        await release(context)
    signature.intact, signature.valid = bool(status.intact), bool(status.valid)
    signature.trusted = signature.intact and signature.valid and bool(status.trusted)
    signature.tsa = status.signing_cert.subject.human_friendly if status.signing_cert is not None else None
    if not signature.valid:
        signature.problems.append("The document timestamp's signature is not valid.")
    elif not signature.intact:
        signature.problems.append("The document timestamp was made over different content.")
    elif not signature.trusted:
        signature.problems.append("The timestamp authority is not trusted.")
    else:
        signature.timestamp_time = status.timestamp
    _modification(signature, status)
