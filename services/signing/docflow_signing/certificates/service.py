"""Registering users' certificates: parsing, key usage, validity, trust, proof of possession, IIN.

A certificate is public (it rides in every signature its holder made), so holding one proves
nothing: the uploader signs a challenge with its key, the certificate's IIN must be the account's,
and a certificate is active on one account at a time. A signature is then tied to an account only
through a certificate registered this way.
"""

from __future__ import annotations

import asyncio

from asn1crypto import x509 as asn1_x509

from docflow_shared.errors import Conflict, NotFound, Unprocessable
from docflow_shared.ids import new_id, well_formed
from docflow_shared.mongo import Document, utc_now
from docflow_shared.pagination import NEWEST_FIRST, Page
from docflow_signing.certificates.challenges import ChallengeRepository
from docflow_signing.certificates.repository import CertificateRepository, holder_conflict
from docflow_signing.certificates.schemas import CertificateRead, KeyChallengeRead
from docflow_signing.crypto import kzgost, streebog
from docflow_signing.crypto.certificates import (
    ParsedCertificate,
    bundled_certificates,
    parse_certificate,
)
from docflow_signing.crypto.kzsubject import iin_valid
from docflow_signing.crypto.possession import verify_possession
from docflow_signing.crypto.trust import TrustResult, TrustStore
from docflow_signing.ids import CERTIFICATE_PREFIX
from docflow_signing.projection.repository import ProjectionRepository


class CertificateService:
    def __init__(self, *, repository: CertificateRepository, challenges: ChallengeRepository,
                 projection: ProjectionRepository, trust: TrustStore, allow_untrusted: bool) -> None:
        self.repository = repository
        self.challenges = challenges
        self.projection = projection
        self.trust = trust
        self.allow_untrusted = allow_untrusted

    async def challenge(self, *, user_id: str) -> KeyChallengeRead:
        """A single-use challenge for the caller to sign with the key of the certificate they upload."""
        challenge, expires_at = await self.challenges.issue(user_id)
        return KeyChallengeRead(challenge=challenge, expires_at=expires_at)

    async def register(self, *, user_id: str, data: bytes, challenge: str | None,
                       proof: bytes | None) -> CertificateRead:
        """Check and store an uploaded certificate; 422 with the reason, 409 when an account holds it."""
        issued = await self.challenges.spend(user_id, challenge) if challenge else False
        parsed = parse_certificate(data)
        if not parsed.can_sign:
            raise Unprocessable(
                "The certificate's key usage allows neither digitalSignature nor nonRepudiation.",
                slug="certificate-key-usage",
            )
        if problem := parsed.validity_problem(utc_now()):
            raise Unprocessable(problem, slug="certificate-validity")
        if await self.repository.active_holder(parsed.fingerprint_sha256) == user_id:
            raise Conflict("You have already uploaded this certificate.", slug="certificate-exists")
        result = await self._trust(parsed, bundled_certificates(data))
        if not result.trusted and (result.expired or not self.allow_untrusted):
            raise Unprocessable(result.reason or "The certificate is not trusted.", slug="certificate-untrusted")
        self._check_possession(parsed, challenge, issued, proof)
        await self._check_iin(user_id, parsed)
        if holder := await self.repository.active_holder(parsed.fingerprint_sha256):
            raise holder_conflict(user_id, holder)
        doc: Document = {
            "_id": new_id(CERTIFICATE_PREFIX), "user_id": user_id, "der": parsed.der,
            "fingerprint_sha256": parsed.fingerprint_sha256, "subject": parsed.subject,
            "subject_common_name": parsed.subject_common_name, "issuer": parsed.issuer,
            "serial_number": parsed.serial_number, "not_before": parsed.not_before,
            "not_after": parsed.not_after, "key_usage": list(parsed.key_usage),
            "key_algorithm": parsed.key_algorithm, "iin": parsed.iin, "email": parsed.email,
            "iin_valid": None if parsed.iin is None else iin_valid(parsed.iin),
            "trusted": result.trusted, "trust_problem": result.reason, "chain": result.chain,
            "created_at": utc_now(), "active": True, "deleted_at": None,
        }
        await self.repository.insert(doc)
        return CertificateRead.from_doc(doc)

    async def _trust(self, parsed: ParsedCertificate, bundled: list[asn1_x509.Certificate]) -> TrustResult:
        """The path to the trust store now; intermediates may come in the upload (a leaf-first PEM bundle).

        A Kazakh GOST certificate's path is checked by ``kzgost`` (pyHanko cannot read GOST keys),
        with the same rules, off the event loop (the curve arithmetic is pure Python).
        """
        cert = asn1_x509.Certificate.load(parsed.der)
        if not parsed.gost:
            return await self.trust.evaluate(cert, other_certs=bundled)
        if not streebog.available():
            raise streebog.GostUnavailable()
        if not self.trust.roots:
            return TrustResult(False, "The trust store is empty.")
        path = await asyncio.to_thread(kzgost.validate_path, cert, self.trust.roots, bundled, utc_now())
        return TrustResult(path.trusted, path.problem, [c.subject.human_friendly for c in path.path],
                           expired=path.indication == "OUT_OF_BOUNDS_NO_POE")

    def _check_possession(self, parsed: ParsedCertificate, challenge: str | None, issued: bool,
                          proof: bytes | None) -> None:
        """The uploader holds the certificate's key: it signed a challenge issued to this account.

        ``issued`` says whether the challenge was open for this account; it was spent on arrival,
        so a challenge serves one upload whatever its outcome.
        """
        if not challenge or not proof:
            raise Unprocessable(
                "Prove that you hold the certificate's key: get a challenge from "
                "POST /api/v1/certificates/challenges, sign it with the key (detached CMS) and send both "
                "in the DocFlow-Key-Challenge and DocFlow-Key-Proof headers.", slug="key-proof-missing")
        if not issued:
            raise Unprocessable("The key challenge is unknown, expired, already used or not yours; "
                                "get a new one.", slug="key-challenge-invalid")
        verify_possession(proof, challenge.encode(), parsed.der)

    async def _check_iin(self, user_id: str, parsed: ParsedCertificate) -> None:
        """A certificate with a real IIN goes only to the account with that IIN (see the README)."""
        if parsed.iin is None:
            return
        if await self.projection.iin_held_elsewhere(parsed.iin, user_id):
            raise Unprocessable("The IIN in the certificate belongs to another account.",
                                slug="certificate-iin-foreign")
        if not iin_valid(parsed.iin):
            return  # a test-PKI IIN: no account can hold it, so it binds like a certificate without one
        user = await self.projection.user(user_id)
        known = (user or {}).get("iin")
        if not known:
            raise Unprocessable("The certificate carries an IIN and your account has none: set your IIN in "
                                "your profile first, then upload the certificate.", slug="certificate-iin-missing")
        if known != parsed.iin:
            raise Unprocessable("The IIN in the certificate is not the IIN of your account.",
                                slug="certificate-iin")

    async def get(self, *, user_id: str, certificate_id: str) -> CertificateRead:
        doc = await self._find(user_id, certificate_id)
        return CertificateRead.from_doc(doc)

    async def _find(self, user_id: str, certificate_id: str) -> Document:
        doc = None
        if well_formed(certificate_id, CERTIFICATE_PREFIX):
            doc = await self.repository.get(user_id, certificate_id)
        if doc is None:
            raise NotFound("Certificate not found.")
        return doc

    async def page(self, *, user_id: str, limit: int, cursor: str | None) -> Page[CertificateRead]:
        docs = await self.repository.page(user_id, after=NEWEST_FIRST.after(cursor), limit=limit + 1)
        docs, next_cursor = NEWEST_FIRST.page(docs, limit)
        return Page[CertificateRead](items=[CertificateRead.from_doc(d) for d in docs], next_cursor=next_cursor)

    async def delete(self, *, user_id: str, certificate_id: str) -> None:
        if not well_formed(certificate_id, CERTIFICATE_PREFIX) or not await self.repository.soft_delete(
            user_id, certificate_id, utc_now()
        ):
            raise NotFound("Certificate not found.")

    async def delete_all_of(self, user_id: str) -> None:
        """A deleted account's certificates go with it."""
        await self.repository.delete_all_of(user_id)

    async def active_certificates(self, user_id: str) -> list[Document]:
        return await self.repository.active_of(user_id)
