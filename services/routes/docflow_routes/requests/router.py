"""Routes: signature requests of a document, and the caller's own requests to sign."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from docflow_routes.dependencies import ActingParticipant, Ctx, Cursor, Limit, Origin
from docflow_routes.requests.schemas import (
    AssignedRequestRead,
    DeclineBody,
    DelegateBody,
    SignatureRequestCreate,
    SignatureRequestRead,
)
from docflow_shared.openapi import created_links, link
from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser

documents_router = APIRouter()
assigned_router = APIRouter()


@documents_router.post("/{document_id}/signature-requests", status_code=status.HTTP_201_CREATED,
                       response_model=SignatureRequestRead, summary="Ask people to sign a document",
                       responses=created_links(CancelRequest=link(
                           "/api/v1/documents/{document_id}/signature-requests/{request_id}", "delete",
                           document_id="$response.body#/document_id", request_id="$response.body#/id")))
async def create_request(document_id: str, body: SignatureRequestCreate, user: CurrentUser,
                         ctx: Ctx, origin: Origin) -> SignatureRequestRead:
    return await ctx.requests.create(user_id=user.user_id, document_id=document_id, body=body, origin=origin)


@documents_router.get("/{document_id}/signature-requests", response_model=Page[SignatureRequestRead],
                      summary="Signature requests of a document")
async def list_requests(document_id: str, user: CurrentUser, ctx: Ctx,
                        limit: Limit = 50,
                        cursor: Cursor = None) -> Page[SignatureRequestRead]:
    return await ctx.requests.list_for_document(user_id=user.user_id, document_id=document_id,
                                                limit=limit, cursor=cursor)


@documents_router.delete("/{document_id}/signature-requests/{request_id}", response_model=SignatureRequestRead,
                         summary="Cancel a signature request")
async def cancel_request(document_id: str, request_id: str, user: CurrentUser,
                         ctx: Ctx) -> SignatureRequestRead:
    return await ctx.requests.cancel(user_id=user.user_id, document_id=document_id, request_id=request_id)


@documents_router.post("/{document_id}/signature-requests/{request_id}/approve", status_code=status.HTTP_202_ACCEPTED,
                       summary="Approve on your turn (role approve), yourself or as a delegate")
async def approve(acting: ActingParticipant, ctx: Ctx) -> None:
    await ctx.actions.approve(acting)


@documents_router.post("/{document_id}/signature-requests/{request_id}/decline", status_code=status.HTTP_202_ACCEPTED,
                       summary="Decline with a reason: the route stops")
async def decline(acting: ActingParticipant, body: DeclineBody, ctx: Ctx) -> None:
    await ctx.actions.decline(acting, body)


@documents_router.post("/{document_id}/signature-requests/{request_id}/delegate", status_code=status.HTTP_202_ACCEPTED,
                       summary="Hand your part to someone else, who acts on your behalf")
async def delegate(acting: ActingParticipant, body: DelegateBody, ctx: Ctx) -> None:
    await ctx.actions.delegate(acting, body)


@assigned_router.get("", response_model=Page[AssignedRequestRead], summary="What you are asked to sign")
async def assigned_requests(user: CurrentUser, ctx: Ctx, limit: Limit = 50,
                            cursor: Cursor = None,
                            include_closed: bool = Query(False, description="also signed and closed ones"),
                            ) -> Page[AssignedRequestRead]:
    return await ctx.requests.assigned(user_id=user.user_id, limit=limit, cursor=cursor,
                                       include_closed=include_closed)
