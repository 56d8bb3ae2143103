"""/api/v1/contacts"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from docflow_documents.contacts.schemas import ContactCreate, ContactRead
from docflow_documents.dependencies import Ctx, Cursor, Limit
from docflow_shared.openapi import created_links, link
from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser

router = APIRouter()


@router.get("", response_model=Page[ContactRead])
async def list_contacts(ctx: Ctx, user: CurrentUser, limit: Limit = 20, cursor: Cursor = None) -> Page[ContactRead]:
    return await ctx.contacts.list(user_id=user.user_id, cursor=cursor, limit=limit)


@router.post("", response_model=ContactRead, status_code=status.HTTP_201_CREATED, responses=created_links(
    DeleteContact=link("/api/v1/contacts/{contact_id}", "delete", contact_id="$response.body#/id")))
async def add_contact(ctx: Ctx, user: CurrentUser, body: ContactCreate) -> ContactRead:
    return await ctx.contacts.add(user_id=user.user_id, data=body)


@router.delete("/{contact_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_contact(ctx: Ctx, user: CurrentUser, contact_id: str) -> Response:
    await ctx.contacts.delete(user_id=user.user_id, contact_id=contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
