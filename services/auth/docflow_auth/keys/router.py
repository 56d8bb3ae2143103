"""GET /.well-known/jwks.json: the public keys that verify DocFlow access tokens."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from docflow_auth.dependencies import Ctx
from docflow_auth.keys.keyring import JWKS_CACHE_SECONDS

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json", summary="Public keys (JWKS) for access-token verification")
async def jwks(ctx: Ctx) -> JSONResponse:
    return JSONResponse(ctx.keyring.jwks(), headers={"Cache-Control": f"public, max-age={JWKS_CACHE_SECONDS}"})
