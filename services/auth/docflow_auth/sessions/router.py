"""Login, refresh, logout (under /auth) and the caller's sessions (under /users/me)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from docflow_auth.context import AuthContext
from docflow_auth.dependencies import Ctx, client_ip
from docflow_auth.security.cookies import (
    clear_token_cookies,
    set_token_cookies,
    wants_cookies,
)
from docflow_auth.sessions import service
from docflow_auth.sessions.schemas import LoginCreate, LogoutCreate, RefreshCreate, SessionList, TokenRead
from docflow_auth.sessions.tokens import IssuedTokens
from docflow_shared.web import CurrentUser

router = APIRouter(tags=["sessions"])
me_router = APIRouter(tags=["sessions"])


def answer(ctx: AuthContext, issued: IssuedTokens, response: Response, *, cookies: bool) -> TokenRead:
    if not cookies:
        return TokenRead(access_token=issued.access_token, refresh_token=issued.refresh_token,
                         expires_in=issued.expires_in)
    csrf = set_token_cookies(response, ctx.settings, access_token=issued.access_token,
                             refresh_token=issued.refresh_token, refresh_max_age=issued.refresh_max_age)
    return TokenRead(access_token=None, refresh_token=None, expires_in=issued.expires_in, transport="cookie",
                     csrf_token=csrf)


@router.post("/login", summary="Log in; answers an access and a refresh token")
async def login(data: LoginCreate, request: Request, response: Response, ctx: Ctx) -> TokenRead:
    issued = await service.login(ctx, data, user_agent=request.headers.get("user-agent"), ip=client_ip(request))
    return answer(ctx, issued, response, cookies=wants_cookies(request, data.transport))


@router.post("/refresh", summary="Rotate the refresh token (body or cookie) for new tokens")
async def refresh(request: Request, response: Response, ctx: Ctx, data: RefreshCreate | None = None) -> TokenRead:
    data = data or RefreshCreate()
    issued = await service.refresh(ctx, request, refresh_token=data.refresh_token)
    # a token that came in its cookie goes back in one
    from_cookie = data.refresh_token is None
    return answer(ctx, issued, response, cookies=from_cookie or wants_cookies(request, data.transport))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End the session (token family)")
async def logout(request: Request, ctx: Ctx, data: LogoutCreate | None = None) -> Response:
    await service.logout(ctx, request, refresh_token=data.refresh_token if data else None)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_token_cookies(response, ctx.settings)
    return response


@me_router.get("/sessions", summary="The caller's active sessions")
async def list_sessions(principal: CurrentUser, ctx: Ctx) -> SessionList:
    return await service.list_sessions(ctx, principal)


@me_router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT,
                  summary="End one of the caller's sessions")
async def revoke_session(session_id: str, principal: CurrentUser, ctx: Ctx) -> None:
    await service.revoke_session(ctx, principal, session_id)
