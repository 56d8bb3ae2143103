"""Everything the signing service wires together in its lifespan, in one place."""

from __future__ import annotations

from pathlib import Path

from docflow_shared.runtime import ContextBase, ServiceRuntime
from docflow_signing.certificates.challenges import ChallengeRepository
from docflow_signing.certificates.repository import CertificateRepository
from docflow_signing.certificates.service import CertificateService
from docflow_signing.crypto.revocation import RevocationChecker, RevocationPolicy
from docflow_signing.crypto.trust import TrustStore
from docflow_signing.crypto.tsa import ArchiveStamper
from docflow_signing.evidence.pdf import EvidencePdf
from docflow_signing.evidence.repository import TrailRepository
from docflow_signing.evidence.seal import Seal
from docflow_signing.evidence.service import EvidenceService
from docflow_signing.pdf_signatures.service import PdfSignatureService
from docflow_signing.projection.repository import ProjectionRepository
from docflow_signing.projection.service import ProjectionService
from docflow_signing.routes.repository import RouteAccessRepository
from docflow_signing.routes.service import RouteAccessService
from docflow_signing.settings import SigningSettings
from docflow_signing.signatures.digests import DIGEST_REQUESTS, DigestRequestRepository, StoredFileDigests
from docflow_signing.signatures.evidence import CrlArchive
from docflow_signing.signatures.repository import SIGNATURES, SignatureRepository
from docflow_signing.signatures.service import SignatureService

OUTBOX_COLLECTIONS = (SIGNATURES, DIGEST_REQUESTS)


class SigningContext(ContextBase[SigningSettings]):
    """Repositories and services of the signing service, built once per process."""

    def __init__(self, runtime: ServiceRuntime, settings: SigningSettings) -> None:
        super().__init__(runtime, settings)
        db, outbox, event = runtime.db, runtime.outbox, runtime.event
        self.projection_repository = ProjectionRepository(db)
        self.certificate_repository = CertificateRepository(db)
        self.challenge_repository = ChallengeRepository(db)
        self.signature_repository = SignatureRepository(db, outbox)
        self.route_access_repository = RouteAccessRepository(db)
        self.digest_request_repository = DigestRequestRepository(db, outbox)
        self.crl_archive = CrlArchive(db)
        self.trust = TrustStore(settings.trust_path)
        self.tsa_trust = TrustStore(settings.tsa_trust_path) if settings.tsa_trust_dir else self.trust
        self.revocation = RevocationPolicy(
            RevocationChecker(url_map=settings.revocation_url_map, timeout=settings.revocation_timeout_seconds),
            unknown=settings.revocation_unknown,
        ) if settings.revocation_check else None
        self.archive = ArchiveStamper(settings.tsa_url, self.tsa_trust,
                                      timeout=settings.tsa_timeout_seconds) if settings.tsa_url else None

        self.certificates = CertificateService(
            repository=self.certificate_repository, challenges=self.challenge_repository,
            projection=self.projection_repository, trust=self.trust, allow_untrusted=settings.allow_untrusted)
        self.routes = RouteAccessService(repository=self.route_access_repository,
                                         projection=self.projection_repository)
        self.file_digests = StoredFileDigests(
            requests=self.digest_request_repository, projection=self.projection_repository, make_event=event,
            wait_seconds=settings.digest_wait_seconds)
        self.signatures = SignatureService(
            repository=self.signature_repository, digests=self.file_digests, certificates=self.certificates,
            routes=self.routes,
            projection=self.projection_repository, trust=self.trust, make_event=event,
            allow_untrusted=settings.allow_untrusted, skew_seconds=settings.clock_skew_seconds,
            max_file_bytes=settings.max_verify_file_bytes, max_signature_bytes=settings.max_signature_bytes,
            tsa_trust=self.tsa_trust, revocation=self.revocation, crls=self.crl_archive, archive=self.archive,
        )
        self.pdf_signatures = PdfSignatureService(trust=self.trust, tsa_trust=self.tsa_trust,
                                                  skew_seconds=settings.clock_skew_seconds, revocation=self.revocation)
        self.trail_repository = TrailRepository(db)
        seal = (Seal(Path(settings.evidence_seal_cert), Path(settings.evidence_seal_key))
                if settings.evidence_seal_cert
                else Seal.development(settings.seal_dir) if settings.environment == "development" else None)
        self.evidence = EvidenceService(
            trail=self.trail_repository, projection=self.projection_repository,
            signatures=self.signature_repository, routes=self.routes,
            pdf=EvidencePdf(font_dir=Path(settings.evidence_font_dir), seal=seal))
        self.projection = ProjectionService(repository=self.projection_repository,
                                            certificates=self.certificates, routes=self.route_access_repository)

    async def create_indexes(self) -> None:
        for repository in (
            self.processed, self.projection_repository, self.certificate_repository, self.challenge_repository,
            self.signature_repository, self.route_access_repository, self.crl_archive,
            self.digest_request_repository, self.trail_repository,
        ):
            await repository.create_indexes()
