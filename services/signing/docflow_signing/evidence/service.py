"""The evidence report of a document, from signing's own records and projection
(docs/architecture.md, "Evidence")."""

from __future__ import annotations

from typing import Any

from docflow_shared.events import Event
from docflow_shared.mongo import Document, utc_now
from docflow_signing.evidence.pdf import EvidencePdf
from docflow_signing.evidence.repository import TrailRepository
from docflow_signing.evidence.schemas import (
    KZ_ROLES,
    NOT_COMPUTED,
    SIGN_RIGHT,
    EvidenceDocument,
    EvidenceFile,
    EvidencePerson,
    EvidenceRead,
    EvidenceRoute,
    EvidenceSignature,
    EvidenceSigner,
    EvidenceTrailEntry,
    EvidenceVersion,
)
from docflow_signing.evidence.trail import ROUTE_EVENTS, entry_of
from docflow_signing.projection.repository import ProjectionRepository
from docflow_signing.routes.service import RouteAccessService
from docflow_signing.signatures.repository import SignatureRepository
from docflow_signing.signatures.schemas import SignatureRead

MAX_SIGNATURES = 1000
MAX_TRAIL = 5000


class EvidenceService:
    def __init__(self, *, trail: TrailRepository, projection: ProjectionRepository,
                 signatures: SignatureRepository, routes: RouteAccessService, pdf: EvidencePdf) -> None:
        self.trail = trail
        self.projection = projection
        self.signatures = signatures
        self.routes = routes
        self.pdf = pdf

    async def record(self, event: Event) -> None:
        """Keep what an event says happened to a document (idempotent on the event id); a deleted
        document's trail goes with it, as its projection does."""
        if event.type == "document.deleted":
            await self.trail.delete_document(str(event.data.get("document_id") or ""))
            return
        entry = entry_of(event)
        if entry is not None:
            await self.trail.record(entry)

    async def report(self, *, user_id: str, document_id: str) -> EvidenceRead:
        """The owner's and participants' view of the document; 404 for anyone else."""
        access = await self.routes.visible_document(document_id, user_id)
        only_mine = await self.routes.hides_signatures_from(access)
        stored = await self.signatures.page(document_id, after={}, limit=MAX_SIGNATURES, file_id=None,
                                            signer_id=user_id if only_mine else None)
        files = await self.projection.files_of(document_id)
        trail = await self.trail.of_document(document_id, MAX_TRAIL + 1)
        people = await self.projection.users_by_id(sorted(
            {access.owner_id, user_id, *(s["signer_id"] for s in stored),
             *(t["actor_id"] for t in trail if t.get("actor_id"))}))
        names = {f["_id"]: f for f in files}

        def person(person_id: str | None) -> EvidencePerson:
            found = people.get(person_id or "") or {}
            return EvidencePerson(user_id=person_id, full_name=str(found.get("full_name") or ""),
                                  email=str(found.get("email") or ""))

        entries = [_trail_entry(t, person) for t in trail[:MAX_TRAIL]]
        document = access.document
        return EvidenceRead(
            generated_at=utc_now(), generated_for=person(user_id),
            document=EvidenceDocument(id=access.document_id, title=access.title,
                                      status=str(document.get("status") or ""), owner=person(access.owner_id)),
            versions=_versions(entries),
            files=[_file(f) for f in files],
            signatures=[_signature(SignatureRead.from_doc(s), names, person) for s in reversed(stored)],
            route=EvidenceRoute(route_events=[e for e in entries if e.type in ROUTE_EVENTS]),
            trail=entries, trail_truncated=len(trail) > MAX_TRAIL,
            audit_export=f"/api/v1/documents/{access.document_id}/audit/export",
        )

    async def report_pdf(self, *, user_id: str, document_id: str) -> bytes:
        return await self.pdf.render_sealed(await self.report(user_id=user_id, document_id=document_id))


def _file(f: Document) -> EvidenceFile:
    return EvidenceFile(id=str(f["_id"]), name=str(f.get("name") or ""), size=int(f.get("size") or 0),
                        content_type=str(f.get("content_type") or ""), sha256=str(f.get("sha256") or ""),
                        streebog256=str(f.get("streebog256") or NOT_COMPUTED),
                        streebog512=str(f.get("streebog512") or NOT_COMPUTED))


def _versions(entries: list[EvidenceTrailEntry]) -> list[EvidenceVersion]:
    versions: dict[int, EvidenceVersion] = {}
    for e in entries:
        if e.type in ("document.created", "document.updated") and isinstance(e.details.get("version"), int):
            number = int(e.details["version"])
            versions[number] = EvidenceVersion(version=number, title=str(e.details.get("title") or ""),
                                               status=str(e.details.get("status") or ""), at=e.at)
    return [versions[n] for n in sorted(versions)]


def _trail_entry(t: Document, person: Any) -> EvidenceTrailEntry:
    actor = t.get("actor_id")
    return EvidenceTrailEntry(at=t["at"], type=str(t["type"]), actor=person(actor) if actor else None,
                              details=dict(t.get("details") or {}), ip=str(t.get("ip") or ""),
                              user_agent=str(t.get("user_agent") or ""), request_id=str(t.get("request_id") or ""))


def _signature(s: SignatureRead, files: dict[str, Document], person: Any) -> EvidenceSignature:
    report, kz = s.report, s.report.kz_signer
    who: EvidencePerson = person(s.signer_id)
    signer = EvidenceSigner(
        user_id=s.signer_id, full_name=who.full_name, email=who.email, subject=report.signer_subject,
        issuer=report.signer_issuer, serial_number=report.signer_serial_number,
        fingerprint_sha256=report.signer_fingerprint_sha256,
    )
    if kz is not None:
        signer.iin, signer.bin, signer.role, signer.sign_right = kz.iin, kz.bin, kz.role, kz.sign_right
        signer.role_kk = KZ_ROLES.get(kz.role) if kz.role else None
        signer.sign_right_kk = SIGN_RIGHT[kz.sign_right] if kz.sign_right is not None else None
    return EvidenceSignature(
        id=s.id, file_id=s.file_id, file_name=str(files.get(s.file_id, {}).get("name") or ""),
        file_sha256=s.file_sha256, signer=signer, signature_algorithm=report.signature_algorithm,
        digest_algorithm=report.digest_algorithm, received_at=s.received_at, signing_time=s.signing_time,
        time_basis=s.time_basis, timestamp_time=s.timestamp_time, claimed_signing_time=s.claimed_signing_time,
        intact=report.intact, valid=report.valid, trusted=s.trusted, chain=report.chain,
        revocation=report.revocation, co_signers=report.co_signers, problems=report.problems,
    )
