"""Routes: signature requests of a document, and the caller's own requests to sign."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser
from docflow_signing.container import Services
from docflow_signing.requests.schemas import AssignedRequestRead, SignatureRequestCreate, SignatureRequestRead

documents_router = APIRouter()
assigned_router = APIRouter()


@documents_router.post("/{document_id}/signature-requests", status_code=status.HTTP_201_CREATED,
                       response_model=SignatureRequestRead, summary="Ask people to sign a document")
async def create_request(document_id: str, body: SignatureRequestCreate, user: CurrentUser,
                         services: Services) -> SignatureRequestRead:
    return await services.requests.create(user_id=user.user_id, document_id=document_id, body=body)


@documents_router.get("/{document_id}/signature-requests", response_model=Page[SignatureRequestRead],
                      summary="Signature requests of a document")
async def list_requests(document_id: str, user: CurrentUser, services: Services,
                        limit: int = Query(50, ge=1, le=200),
                        cursor: str | None = None) -> Page[SignatureRequestRead]:
    return await services.requests.list_for_document(user_id=user.user_id, document_id=document_id,
                                                     limit=limit, cursor=cursor)


@documents_router.delete("/{document_id}/signature-requests/{request_id}", response_model=SignatureRequestRead,
                         summary="Cancel a signature request")
async def cancel_request(document_id: str, request_id: str, user: CurrentUser,
                         services: Services) -> SignatureRequestRead:
    return await services.requests.cancel(user_id=user.user_id, document_id=document_id, request_id=request_id)


@assigned_router.get("", response_model=Page[AssignedRequestRead], summary="What you are asked to sign")
async def assigned_requests(user: CurrentUser, services: Services, limit: int = Query(50, ge=1, le=200),
                            cursor: str | None = None,
                            include_closed: bool = Query(False, description="also signed and closed ones"),
                            ) -> Page[AssignedRequestRead]:
    return await services.requests.assigned(user_id=user.user_id, limit=limit, cursor=cursor,
                                            include_closed=include_closed)
