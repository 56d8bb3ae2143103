"""Routes: links for people outside DocFlow (no account, no access token: the link, the code,
then the ``DocFlow-External-Session`` header)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, status

from docflow_routes.dependencies import Ctx, Origin
from docflow_routes.external.schemas import CodeBody, ExternalView, LinkOpened, SessionOpened
from docflow_routes.requests.actions import Outsider
from docflow_routes.requests.schemas import DeclineBody, DelegateBody

router = APIRouter()


async def external_session(ctx: Ctx, session_token: Annotated[str | None, Header(
        alias="DocFlow-External-Session", description="the session_token the code gave")] = None) -> Outsider:
    return await ctx.external.session(session_token)


Session = Annotated[Outsider, Depends(external_session)]


@router.get("/session", response_model=ExternalView, summary="The request and its document, for the session")
async def view(session: Session, ctx: Ctx) -> ExternalView:
    return await ctx.external.view(session)


@router.post("/session/approve", status_code=status.HTTP_202_ACCEPTED, summary="Approve, through the session")
async def approve(session: Session, ctx: Ctx, origin: Origin) -> None:
    await ctx.actions.approve_as_outsider(session, origin)


@router.post("/session/decline", status_code=status.HTTP_202_ACCEPTED, summary="Decline, through the session")
async def decline(body: DeclineBody, session: Session, ctx: Ctx, origin: Origin) -> None:
    await ctx.actions.decline_as_outsider(session, body, origin)


@router.post("/session/delegate", status_code=status.HTTP_202_ACCEPTED,
             summary="Hand your part to someone else, through the session")
async def delegate(body: DelegateBody, session: Session, ctx: Ctx, origin: Origin) -> None:
    await ctx.actions.delegate_as_outsider(session, body, origin)


@router.get("/{token}", response_model=LinkOpened, summary="Open a link: a 6-digit code goes to its address")
async def open_link(token: str, ctx: Ctx) -> LinkOpened:
    return await ctx.external.open(token)


@router.post("/{token}/code", response_model=SessionOpened, summary="The code from the e-mail opens a session")
async def verify_code(token: str, body: CodeBody, ctx: Ctx) -> SessionOpened:
    return await ctx.external.verify(token, body.code)
