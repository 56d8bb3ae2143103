"""Signing files: the signature is verified, tied to the caller's certificate, stored, announced."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from fastapi import Request
from starlette.datastructures import UploadFile

from docflow_shared.errors import Forbidden, NotFound, PayloadTooLarge, Unprocessable
from docflow_shared.events import Client, Event, EventPayload
from docflow_shared.ids import new_id, well_formed
from docflow_shared.mongo import Document, utc_now
from docflow_shared.pagination import NEWEST_FIRST, Page
from docflow_signing.certificates.service import CertificateService
from docflow_signing.crypto import streebog
from docflow_signing.crypto.certificates import SIGNING_KEY_USAGES
from docflow_signing.crypto.cms import DecodedSignature, DecodedSigners, decode_signers
from docflow_signing.crypto.gostoids import gost_algorithm, is_gost
from docflow_signing.crypto.revocation import RevocationPolicy, RevocationStatus
from docflow_signing.crypto.signing_times import SigningTimes, signing_times
from docflow_signing.crypto.trust import TrustStore
from docflow_signing.crypto.tsa import ArchiveStamper
from docflow_signing.crypto.verification import NO_CHAIN, VerificationReport
from docflow_signing.ids import SIGNATURE_PREFIX
from docflow_signing.projection.repository import ProjectionRepository
from docflow_signing.routes.service import RouteAccessService
from docflow_signing.signatures import events
from docflow_signing.signatures.cosigners import co_signer_reports, verify_signer
from docflow_signing.signatures.digests import StoredFileDigests
from docflow_signing.signatures.evidence import CrlArchive
from docflow_signing.signatures.repository import SignatureRepository
from docflow_signing.signatures.schemas import SignatureRead, VerifyResult
from docflow_signing.uploads import verify_parts

READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SignatureFile:
    """A stored signature's bytes for download."""

    content: bytes
    filename: str


@dataclass(kw_only=True, eq=False)
class SignatureService:
    repository: SignatureRepository
    digests: StoredFileDigests
    certificates: CertificateService
    routes: RouteAccessService
    projection: ProjectionRepository
    trust: TrustStore
    make_event: Callable[[EventPayload], Event]
    allow_untrusted: bool
    skew_seconds: int
    max_file_bytes: int
    max_signature_bytes: int
    tsa_trust: TrustStore | None = None  # None: the signers' trust store also judges TSAs
    revocation: RevocationPolicy | None = None
    crls: CrlArchive | None = None
    archive: ArchiveStamper | None = None

    async def sign(self, *, user_id: str, document_id: str, file_id: str, data: bytes,
                   client: Client | None = None) -> SignatureRead:
        """Verify and store the caller's detached signature of a file; publishes document.signed
        (with ``client``, where the upload came from, for the audit trail)."""
        received_at = utc_now()
        access = await self.routes.visible_document(document_id, user_id)
        file = await self.projection.file(document_id, file_id)
        if file is None:
            raise NotFound("File not found.")
        turn = await self.routes.signing_turn(document_id, user_id)
        if turn is None and not access.can_sign:
            raise Forbidden("You may not sign this document.", slug="not-a-signer")
        signers = decode_signers(data)
        decoded, certificate, signer_cert = await self._callers_signer(user_id, signers)
        times = await signing_times(decoded, self.tsa_trust or self.trust, received_at=received_at,
                                    skew_seconds=self.skew_seconds)
        if not SIGNING_KEY_USAGES & set(certificate.get("key_usage") or []):
            raise Unprocessable("The certificate may not be used for signing.", slug="certificate-key-usage")
        _check_validity(certificate, times)
        sha256 = bytes.fromhex(file["sha256"])
        streebog: dict[int, bytes] = {}
        if any(is_gost(s.signature_algorithm) for s in signers.supported):
            streebog = await self.digests.streebog(file)
        report = await verify_signer(decoded, sha256=sha256, streebog=streebog, trust=self.trust,
                                     signer_cert=signer_cert, times=times)
        self._accept(report)
        revocation = await self._revocation(report, decoded, signer_cert, times, refuse=True)
        co_signers = await co_signer_reports(
            [s for s in signers.supported if s is not decoded], signers.unsupported,
            embedded_certs=decoded.embedded_certs, sha256=sha256, streebog=streebog, trust=self.trust,
            received_at=received_at, skew_seconds=self.skew_seconds)
        now = utc_now()
        signature_id = new_id(SIGNATURE_PREFIX)
        request_id = turn.request_id if turn else None
        on_behalf_of = turn.on_behalf_of if turn else None
        doc: Document = {
            "_id": signature_id, "document_id": document_id, "file_id": file_id, "signer_id": user_id,
            "certificate_id": certificate["_id"], "request_id": request_id, "on_behalf_of": on_behalf_of,
            "signing_time": times.moment,
            "time_basis": times.basis, "received_at": times.received_at, "claimed_signing_time": times.claimed,
            "timestamp_time": times.timestamp,
            "created_at": now, "trusted": report.trusted, "file_sha256": file["sha256"],
            "signature_sha256": hashlib.sha256(decoded.der).hexdigest(), "der": decoded.der,
            "report": {**report.to_document(), "co_signers": co_signers},
            **await self._evidence(revocation, decoded.der),
        }
        if is_gost(decoded.signature_algorithm):
            doc["file_streebog256"], doc["file_streebog512"] = streebog[256].hex(), streebog[512].hex()
        signed = events.signed(
            document_id=document_id, file_id=file_id, signature_id=signature_id, title=access.title,
            signer=await self.projection.person(user_id), owner=await self.projection.person(access.owner_id),
            times=times, request_id=request_id, kz_signer=report.kz_signer,
            on_behalf_of=await self.projection.person(on_behalf_of) if on_behalf_of else None, client=client,
        )
        await self.repository.insert(doc, [self.make_event(signed)])
        return SignatureRead.from_doc(doc)

    async def _callers_signer(self, user_id: str, signers: DecodedSigners
                              ) -> tuple[DecodedSignature, Document, asn1_x509.Certificate]:
        """The signer of the CMS made with one of the caller's certificates; the first one's refusal otherwise."""
        refusal: Unprocessable | None = None
        for decoded in signers.supported:
            try:
                certificate, signer_cert = await self._registered_signer(user_id, decoded)
            except Unprocessable as exc:
                refusal = refusal or exc
                continue
            return decoded, certificate, signer_cert
        assert refusal is not None  # decode_signers returns at least one supported signer
        raise refusal

    async def _registered_signer(self, user_id: str,
                                 decoded: DecodedSignature) -> tuple[Document, asn1_x509.Certificate]:
        """The caller's stored certificate the signature was made with; 422 otherwise."""
        owned = await self.certificates.active_certificates(user_id)
        candidates = [asn1_x509.Certificate.load(bytes(c["der"])) for c in owned]
        signer_cert = decoded.signer_certificate(candidates)
        if signer_cert is None:
            raise Unprocessable("The signer certificate is neither in the signature nor among your "
                                "certificates; upload it first.", slug="signer-unknown")
        fingerprint = hashlib.sha256(signer_cert.dump()).hexdigest()
        for certificate in owned:
            if certificate["fingerprint_sha256"] == fingerprint:
                return certificate, signer_cert
        raise Unprocessable("The signature was made with a certificate that is not one of yours; upload "
                            "your certificate first.", slug="signer-not-yours")

    def _accept(self, report: VerificationReport) -> None:
        if not report.valid:
            raise Unprocessable("The signature value is not valid for the signer certificate.",
                                slug="signature-invalid")
        if not report.intact:
            raise Unprocessable("The signature was made over different content than this file.",
                                slug="signature-mismatch")
        if report.trusted or (self.allow_untrusted and report.trust_indication == NO_CHAIN):
            return
        detail = report.problems[-1] if report.problems else "The signer certificate is not trusted."
        raise Unprocessable(detail, slug="signature-untrusted")

    async def _revocation(self, report: VerificationReport, decoded: DecodedSignature,
                          signer_cert: asn1_x509.Certificate, times: SigningTimes, *,
                          refuse: bool) -> RevocationStatus | None:
        """The signer certificate's revocation, judged at ``times.moment`` (when checking is on)."""
        if self.revocation is None:
            return None
        return await self.revocation.apply(report, signer_cert, [*decoded.embedded_certs, *self.trust.roots],
                                           times.moment, refuse=refuse)

    async def _evidence(self, revocation: RevocationStatus | None, der: bytes) -> Document:
        """What a stored signature keeps for a later offline check: revocation evidence, archive timestamp."""
        kept: Document = {}
        if revocation is not None:
            stored = False
            if revocation.crl_der is not None and revocation.crl_sha256 is not None and self.crls is not None:
                stored = await self.crls.keep(revocation.crl_sha256, revocation.crl_der, url=revocation.url,
                                              number=revocation.crl_number, this_update=revocation.this_update)
            kept["revocation_evidence"] = {"source": revocation.source, "ocsp_response": revocation.ocsp_response,
                                           "crl_sha256": revocation.crl_sha256 if stored else None,
                                           "checked_at": revocation.checked_at}
        if self.archive is not None:
            kept["archive_timestamp"] = (await self.archive.stamp(der)).to_document()
        return kept

    async def verify_form(self, *, user_id: str, request: Request) -> VerifyResult:
        """Verify the multipart form's ``file`` against its ``signature``; the file streams from the form."""
        async with verify_parts(request, max_file_bytes=self.max_file_bytes,
                                max_signature_bytes=self.max_signature_bytes) as (file, signature):
            return await self.verify(user_id=user_id, file=file, signature=signature)

    async def verify(self, *, user_id: str, file: UploadFile, signature: bytes) -> VerifyResult:
        """Check a signature of an uploaded file at the time it arrives; nothing is stored."""
        received_at = utc_now()
        signers = decode_signers(signature)
        decoded = signers.supported[0]
        bits: set[int] = {a.digest_bits for s in signers.supported if (a := gost_algorithm(s.signature_algorithm))}
        digest, streebog = await self._digest(file, streebog_bits=bits)
        signer_cert = decoded.signer_certificate()
        certificate_id = None
        if signer_cert is None:
            owned = await self.certificates.active_certificates(user_id)
            by_cert = {c["_id"]: asn1_x509.Certificate.load(bytes(c["der"])) for c in owned}
            signer_cert = decoded.signer_certificate(by_cert.values())
            certificate_id = next((cid for cid, c in by_cert.items() if c is signer_cert), None)
        if signer_cert is None:
            raise Unprocessable("The signature does not carry its signer certificate, and it is not among "
                                "your certificates.", slug="signer-unknown")
        times = await signing_times(decoded, self.tsa_trust or self.trust, received_at=received_at,
                                    skew_seconds=self.skew_seconds)
        report = await verify_signer(decoded, sha256=digest, streebog=streebog, trust=self.trust,
                                     signer_cert=signer_cert, times=times)
        if report.valid and report.intact:
            await self._revocation(report, decoded, signer_cert, times, refuse=False)
        co_signers = await co_signer_reports(
            signers.supported[1:], signers.unsupported, embedded_certs=decoded.embedded_certs, sha256=digest,
            streebog=streebog, trust=self.trust, received_at=received_at, skew_seconds=self.skew_seconds)
        return VerifyResult(**report.to_document(), co_signers=co_signers, file_sha256=digest.hex(),
                            certificate_id=certificate_id)

    async def _digest(self, file: UploadFile, *,
                      streebog_bits: Collection[int] = ()) -> tuple[bytes, dict[int, bytes]]:
        """SHA-256 of the upload and, for GOST signatures, its Streebog of the sizes they use, in the same pass."""
        sha = hashlib.sha256()
        gost = {bits: streebog.new(512 if bits == 512 else 256) for bits in streebog_bits}
        size = 0
        while chunk := await file.read(READ_CHUNK):
            size += len(chunk)
            if size > self.max_file_bytes:
                raise PayloadTooLarge(f"The file is larger than {self.max_file_bytes} bytes.")
            sha.update(chunk)
            for hashed in gost.values():
                hashed.update(chunk)
        return sha.digest(), {bits: hashed.digest() for bits, hashed in gost.items()}

    async def page(self, *, user_id: str, document_id: str, file_id: str | None, limit: int,
                   cursor: str | None) -> Page[SignatureRead]:
        access = await self.routes.visible_document(document_id, user_id)
        only_mine = await self.routes.hides_signatures_from(access)
        docs = await self.repository.page(document_id, after=NEWEST_FIRST.after(cursor), limit=limit + 1,
                                          file_id=file_id, signer_id=user_id if only_mine else None)
        docs, next_cursor = NEWEST_FIRST.page(docs, limit)
        return Page[SignatureRead](items=[SignatureRead.from_doc(d) for d in docs], next_cursor=next_cursor)

    async def _visible_signature(self, user_id: str, document_id: str, signature_id: str) -> Document:
        access = await self.routes.visible_document(document_id, user_id)
        found = well_formed(signature_id, SIGNATURE_PREFIX)
        doc = await self.repository.in_document(document_id, signature_id) if found else None
        if doc is None or (doc["signer_id"] != user_id and await self.routes.hides_signatures_from(access)):
            raise NotFound("Signature not found.")
        return doc

    async def get(self, *, user_id: str, document_id: str, signature_id: str) -> SignatureRead:
        return SignatureRead.from_doc(await self._visible_signature(user_id, document_id, signature_id))

    async def download(self, *, user_id: str, document_id: str, signature_id: str) -> SignatureFile:
        doc = await self._visible_signature(user_id, document_id, signature_id)
        return SignatureFile(bytes(doc["der"]), f"{signature_id}.p7s")


def _check_validity(certificate: Document, times: SigningTimes) -> None:
    """422 unless the registered certificate was valid when the signature is known to exist.

    That is the time DocFlow received it, or the earlier time a trusted timestamp proves; the
    signer's own ``signingTime`` is a claim anyone can backdate, so it decides nothing.
    """
    moment = times.moment
    if certificate["not_before"] <= moment <= certificate["not_after"]:
        return
    when = ("at the time its trusted timestamp proves" if times.basis == "timestamp"
            else "when DocFlow received the signature")
    detail = f"The certificate was not valid at the signing time ({when})."
    if times.timestamp_problem:
        detail += f" {times.timestamp_problem}"
    raise Unprocessable(detail, slug="certificate-validity")
