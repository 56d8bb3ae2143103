"""Cookie transport of tokens: HttpOnly + SameSite=Lax, with a double-submit CSRF cookie."""

from __future__ import annotations

from typing import Literal, TypedDict

from fastapi import Request, Response

from docflow_auth.security.secrets import new_token
from docflow_auth.settings import AuthSettings
from docflow_shared.errors import Forbidden
from docflow_shared.web import ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER

REFRESH_COOKIE = "docflow_refresh"
REFRESH_COOKIE_PATH = "/api/v1/auth"
TRANSPORT_HEADER = "x-token-transport"


class CookieOptions(TypedDict):
    """What every token cookie shares, typed as ``Response.set_cookie`` takes it."""

    secure: bool
    samesite: Literal["lax", "strict", "none"] | None
    domain: str | None


def cookie_options(settings: AuthSettings) -> CookieOptions:
    return {"secure": settings.secure_cookies, "samesite": "lax", "domain": settings.cookie_domain}


def wants_cookies(request: Request, body_transport: str | None) -> bool:
    return (body_transport or request.headers.get(TRANSPORT_HEADER, "")).lower() == "cookie"


def set_token_cookies(response: Response, settings: AuthSettings, *, access_token: str,
                      refresh_token: str, refresh_max_age: int) -> str:
    """Set the three cookies; returns the CSRF token (also readable by the page's script)."""
    csrf = new_token(24)
    common = cookie_options(settings)
    response.set_cookie(ACCESS_COOKIE, access_token, max_age=settings.access_token_ttl, path="/",
                        httponly=True, **common)
    response.set_cookie(REFRESH_COOKIE, refresh_token, max_age=refresh_max_age, path=REFRESH_COOKIE_PATH,
                        httponly=True, **common)
    response.set_cookie(CSRF_COOKIE, csrf, max_age=refresh_max_age, path="/", httponly=False, **common)
    return csrf


def clear_token_cookies(response: Response, settings: AuthSettings) -> None:
    common = cookie_options(settings)
    response.delete_cookie(ACCESS_COOKIE, path="/", httponly=True, **common)
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, httponly=True, **common)
    response.delete_cookie(CSRF_COOKIE, path="/", **common)


def refresh_cookie(request: Request) -> str | None:
    """The refresh token from its cookie, after the double-submit CSRF check."""
    token = request.cookies.get(REFRESH_COOKIE)
    if not token:
        return None
    csrf_cookie = request.cookies.get(CSRF_COOKIE)
    if not csrf_cookie or request.headers.get(CSRF_HEADER) != csrf_cookie:
        raise Forbidden("The CSRF token is missing or does not match.", slug="csrf")
    return token
