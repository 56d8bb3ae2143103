"""Login, refresh, logout (under /auth) and the caller's sessions (under /users/me)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from docflow_auth.context import Auth, AuthContext
from docflow_auth.security.cookies import (
    clear_token_cookies,
    refresh_cookie,
    set_token_cookies,
    wants_cookies,
)
from docflow_auth.sessions import service
from docflow_auth.sessions.schemas import LoginCreate, LogoutCreate, RefreshCreate, SessionList, TokenRead
from docflow_auth.sessions.tokens import IssuedTokens
from docflow_shared.errors import Unauthorized
from docflow_shared.tokens import bearer_token
from docflow_shared.web import CurrentUser

router = APIRouter(tags=["sessions"])
me_router = APIRouter(tags=["sessions"])


def client_ip(request: Request) -> str | None:
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded.split(",")[0].strip()[:64]
    return request.client.host if request.client else None


def answer(auth: AuthContext, issued: IssuedTokens, response: Response, *, cookies: bool) -> TokenRead:
    if not cookies:
        return TokenRead(access_token=issued.access_token, refresh_token=issued.refresh_token,
                         expires_in=issued.expires_in)
    csrf = set_token_cookies(response, auth.settings, access_token=issued.access_token,
                             refresh_token=issued.refresh_token, refresh_max_age=issued.refresh_max_age)
    return TokenRead(access_token=None, refresh_token=None, expires_in=issued.expires_in, transport="cookie",
                     csrf_token=csrf)


@router.post("/login", summary="Log in; answers an access and a refresh token")
async def login(data: LoginCreate, request: Request, response: Response, auth: Auth) -> TokenRead:
    issued = await service.login(auth, data, user_agent=request.headers.get("user-agent"), ip=client_ip(request))
    return answer(auth, issued, response, cookies=wants_cookies(request, data.transport))


@router.post("/refresh", summary="Rotate the refresh token (body or cookie) for new tokens")
async def refresh(request: Request, response: Response, auth: Auth, data: RefreshCreate | None = None) -> TokenRead:
    data = data or RefreshCreate()
    from_cookie = data.refresh_token is None
    value = data.refresh_token or refresh_cookie(request)
    if not value:
        raise Unauthorized("A refresh token is required.", slug="unauthenticated")
    issued = await service.refresh(auth, value)
    return answer(auth, issued, response, cookies=from_cookie or wants_cookies(request, data.transport))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End the session (token family)")
async def logout(request: Request, auth: Auth, data: LogoutCreate | None = None) -> Response:
    value = data.refresh_token if data else None
    session_id = None
    if not value:
        value = refresh_cookie(request)
    if not value:
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            raise Unauthorized("A refresh token or an access token is required.", slug="unauthenticated")
        session_id = (await auth.runtime.verifier.verify(token)).session_id
    await service.logout(auth, refresh_value=value, session_id=session_id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_token_cookies(response, auth.settings)
    return response


@me_router.get("/sessions", summary="The caller's active sessions")
async def list_sessions(principal: CurrentUser, auth: Auth) -> SessionList:
    return await service.list_sessions(auth, principal)


@me_router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT,
                  summary="End one of the caller's sessions")
async def revoke_session(session_id: str, principal: CurrentUser, auth: Auth) -> None:
    await service.revoke_session(auth, principal, session_id)
