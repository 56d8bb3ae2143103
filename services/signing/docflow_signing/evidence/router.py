"""Route: the evidence report of a document, a sealed PDF or JSON."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response

from docflow_shared.web import CurrentUser
from docflow_signing.dependencies import Ctx
from docflow_signing.evidence.schemas import EvidenceRead

router = APIRouter()


@router.get("/{document_id}/evidence", response_model=EvidenceRead,
            responses={200: {"content": {"application/pdf": {}},
                             "description": "The report as a PDF sealed by DocFlow (default), or as JSON."}},
            summary="Evidence of a document: files, digests, signatures, route and trail")
async def get_evidence(document_id: str, user: CurrentUser, ctx: Ctx,
                       format: Literal["pdf", "json"] = "pdf") -> Response | EvidenceRead:
    if format == "json":
        return await ctx.evidence.report(user_id=user.user_id, document_id=document_id)
    pdf = await ctx.evidence.report_pdf(user_id=user.user_id, document_id=document_id)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="evidence-{document_id}.pdf"'})
