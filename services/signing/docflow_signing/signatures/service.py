"""Signing files: the signature is verified, tied to the caller's certificate, stored, announced."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from starlette.datastructures import UploadFile

from docflow_shared.errors import Forbidden, NotFound, PayloadTooLarge, Unprocessable
from docflow_shared.events import Event, EventPayload
from docflow_shared.mongo import Document
from docflow_shared.pagination import Page, decode_cursor, encode_cursor
from docflow_signing.certificates.service import CertificateService
from docflow_signing.crypto.certificates import SIGNING_KEY_USAGES, now_utc
from docflow_signing.crypto.cms import (
    NO_CHAIN,
    DecodedSignature,
    VerificationReport,
    decode_signature,
    signing_moment,
    verify_digest,
)
from docflow_signing.crypto.trust import TrustStore
from docflow_signing.ids import new_id, well_formed
from docflow_signing.projection.repository import ProjectionRepository
from docflow_signing.requests.service import SignatureRequestService
from docflow_signing.signatures import events
from docflow_signing.signatures.repository import SignatureRepository
from docflow_signing.signatures.schemas import SignatureRead, VerifyResult

PREFIX = "sig"
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SignatureFile:
    """A stored signature's bytes for download."""

    content: bytes
    filename: str


class SignatureService:
    def __init__(self, *, repository: SignatureRepository, certificates: CertificateService,
                 requests: SignatureRequestService, projection: ProjectionRepository, trust: TrustStore,
                 make_event: Callable[[EventPayload], Event], allow_untrusted: bool, skew_seconds: int,
                 max_file_bytes: int) -> None:
        self.repository = repository
        self.certificates = certificates
        self.requests = requests
        self.projection = projection
        self.trust = trust
        self.make_event = make_event
        self.allow_untrusted = allow_untrusted
        self.skew_seconds = skew_seconds
        self.max_file_bytes = max_file_bytes

    async def sign(self, *, user_id: str, document_id: str, file_id: str, data: bytes) -> SignatureRead:
        """Verify and store the caller's detached signature of a file; publishes document.signed."""
        access = await self.requests.visible_document(document_id, user_id)
        file = await self.projection.file(document_id, file_id)
        if file is None:
            raise NotFound("File not found.")
        turn = await self.requests.signing_turn(document_id, user_id)
        if turn is None and not access.can_sign:
            raise Forbidden("You may not sign this document.", slug="not-a-signer")
        decoded = decode_signature(data)
        certificate, signer_cert = await self._registered_signer(user_id, decoded)
        moment = signing_moment(decoded, skew_seconds=self.skew_seconds)
        if not SIGNING_KEY_USAGES & set(certificate.get("key_usage") or []):
            raise Unprocessable("The certificate may not be used for signing.", slug="certificate-key-usage")
        if moment < certificate["not_before"] or moment > certificate["not_after"]:
            raise Unprocessable("The certificate was not valid at the signing time.",
                                slug="certificate-validity")
        report = await verify_digest(decoded, bytes.fromhex(file["sha256"]), self.trust,
                                     signer_cert=signer_cert, moment=moment)
        self._accept(report)
        now = now_utc()
        signature_id = new_id(PREFIX)
        request_id = turn.request["_id"] if turn else None
        doc: Document = {
            "_id": signature_id, "document_id": document_id, "file_id": file_id, "signer_id": user_id,
            "certificate_id": certificate["_id"], "request_id": request_id, "signing_time": moment,
            "created_at": now, "trusted": report.trusted, "file_sha256": file["sha256"],
            "signature_sha256": hashlib.sha256(decoded.der).hexdigest(), "der": decoded.der,
            "report": report.to_document(),
        }
        signed = events.signed(
            document_id=document_id, file_id=file_id, signature_id=signature_id, title=access.title,
            signer=await self.projection.person(user_id), owner=await self.projection.person(access.owner_id),
            at=moment, request_id=request_id,
        )
        await self.repository.insert(doc, [self.make_event(signed)])
        if turn is not None:
            await self.requests.record_signature(turn, signature_id)
        return SignatureRead.of(doc)

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

    async def verify(self, *, user_id: str, file: UploadFile, signature: bytes) -> VerifyResult:
        """Check a signature of an uploaded file; nothing is stored."""
        decoded = decode_signature(signature)
        digest = await self._digest(file)
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
        moment = signing_moment(decoded, skew_seconds=self.skew_seconds)
        report = await verify_digest(decoded, digest, self.trust, signer_cert=signer_cert, moment=moment)
        return VerifyResult(**report.to_document(), file_sha256=digest.hex(), certificate_id=certificate_id)

    async def _digest(self, file: UploadFile) -> bytes:
        sha = hashlib.sha256()
        size = 0
        while chunk := await file.read(READ_CHUNK):
            size += len(chunk)
            if size > self.max_file_bytes:
                raise PayloadTooLarge(f"The file is larger than {self.max_file_bytes} bytes.")
            sha.update(chunk)
        return sha.digest()

    async def page(self, *, user_id: str, document_id: str, file_id: str | None, limit: int,
                   cursor: str | None) -> Page[SignatureRead]:
        access = await self.requests.visible_document(document_id, user_id)
        only_mine = await self.requests.hides_signatures_from(access)
        before = (decode_cursor(cursor) or {}).get("before")
        docs = await self.repository.page(document_id, before=str(before) if before else None, limit=limit + 1,
                                          file_id=file_id, signer_id=user_id if only_mine else None)
        more, docs = len(docs) > limit, docs[:limit]
        return Page[SignatureRead](
            items=[SignatureRead.of(d) for d in docs],
            next_cursor=encode_cursor({"before": docs[-1]["_id"]}) if more and docs else None,
        )

    async def _visible_signature(self, user_id: str, document_id: str, signature_id: str) -> Document:
        access = await self.requests.visible_document(document_id, user_id)
        doc = await self.repository.get(document_id, signature_id) if well_formed(signature_id, PREFIX) else None
        if doc is None or (doc["signer_id"] != user_id and await self.requests.hides_signatures_from(access)):
            raise NotFound("Signature not found.")
        return doc

    async def get(self, *, user_id: str, document_id: str, signature_id: str) -> SignatureRead:
        return SignatureRead.of(await self._visible_signature(user_id, document_id, signature_id))

    async def download(self, *, user_id: str, document_id: str, signature_id: str) -> SignatureFile:
        doc = await self._visible_signature(user_id, document_id, signature_id)
        return SignatureFile(bytes(doc["der"]), f"{signature_id}.p7s")
