"""Registering users' certificates: parsing, key usage, validity, IIN and trust checks."""

from __future__ import annotations

from asn1crypto import x509 as asn1_x509

from docflow_shared.errors import Conflict, NotFound, Unprocessable
from docflow_shared.mongo import Document
from docflow_shared.pagination import Page, decode_cursor, encode_cursor
from docflow_signing.certificates.repository import CertificateRepository
from docflow_signing.certificates.schemas import CertificateRead
from docflow_signing.crypto.certificates import ParsedCertificate, now_utc, parse_certificate
from docflow_signing.crypto.trust import TrustStore
from docflow_signing.ids import new_id, well_formed
from docflow_signing.projection.repository import ProjectionRepository

PREFIX = "crt"


class CertificateService:
    def __init__(self, *, repository: CertificateRepository, projection: ProjectionRepository,
                 trust: TrustStore, allow_untrusted: bool) -> None:
        self.repository = repository
        self.projection = projection
        self.trust = trust
        self.allow_untrusted = allow_untrusted

    async def register(self, *, user_id: str, data: bytes) -> CertificateRead:
        """Check and store an uploaded certificate; 422 with the reason, 409 for a duplicate."""
        parsed = parse_certificate(data)
        if not parsed.can_sign:
            raise Unprocessable(
                "The certificate's key usage allows neither digitalSignature nor nonRepudiation.",
                slug="certificate-key-usage",
            )
        if problem := parsed.validity_problem(now_utc()):
            raise Unprocessable(problem, slug="certificate-validity")
        await self._check_iin(user_id, parsed)
        if await self.repository.by_fingerprint(user_id, parsed.fingerprint_sha256):
            raise Conflict("You have already uploaded this certificate.", slug="certificate-exists")
        result = await self.trust.evaluate(asn1_x509.Certificate.load(parsed.der))
        if not result.trusted and (result.expired or not self.allow_untrusted):
            raise Unprocessable(result.reason or "The certificate is not trusted.", slug="certificate-untrusted")
        doc: Document = {
            "_id": new_id(PREFIX), "user_id": user_id, "der": parsed.der,
            "fingerprint_sha256": parsed.fingerprint_sha256, "subject": parsed.subject,
            "subject_common_name": parsed.subject_common_name, "issuer": parsed.issuer,
            "serial_number": parsed.serial_number, "not_before": parsed.not_before,
            "not_after": parsed.not_after, "key_usage": list(parsed.key_usage),
            "key_algorithm": parsed.key_algorithm, "iin": parsed.iin, "email": parsed.email,
            "trusted": result.trusted, "trust_problem": result.reason, "chain": result.chain,
            "created_at": now_utc(), "active": True, "deleted_at": None,
        }
        await self.repository.insert(doc)
        return CertificateRead.of(doc)

    async def _check_iin(self, user_id: str, parsed: ParsedCertificate) -> None:
        if parsed.iin is None:
            return
        user = await self.projection.user(user_id)
        known = (user or {}).get("iin")
        if known and known != parsed.iin:
            raise Unprocessable("The IIN in the certificate is not the IIN of your account.",
                                slug="certificate-iin")

    async def get(self, *, user_id: str, certificate_id: str) -> CertificateRead:
        doc = await self._find(user_id, certificate_id)
        return CertificateRead.of(doc)

    async def _find(self, user_id: str, certificate_id: str) -> Document:
        doc = None
        if well_formed(certificate_id, PREFIX):
            doc = await self.repository.get(user_id, certificate_id)
        if doc is None:
            raise NotFound("Certificate not found.")
        return doc

    async def page(self, *, user_id: str, limit: int, cursor: str | None) -> Page[CertificateRead]:
        position = decode_cursor(cursor) or {}
        before = position.get("before")
        docs = await self.repository.page(user_id, before=str(before) if before else None, limit=limit + 1)
        more = len(docs) > limit
        docs = docs[:limit]
        next_cursor = encode_cursor({"before": docs[-1]["_id"]}) if more and docs else None
        return Page[CertificateRead](items=[CertificateRead.of(d) for d in docs], next_cursor=next_cursor)

    async def delete(self, *, user_id: str, certificate_id: str) -> None:
        if not well_formed(certificate_id, PREFIX) or not await self.repository.soft_delete(
            user_id, certificate_id, now_utc()
        ):
            raise NotFound("Certificate not found.")

    async def active_certificates(self, user_id: str) -> list[Document]:
        return await self.repository.active_of(user_id)
