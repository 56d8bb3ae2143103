"""Consumers of user.* and document.* events (``docflow_shared.projection.handlers``), and of
file digests, signing's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docflow_shared.bus import Handler
from docflow_shared.events import catalogue
from docflow_shared.projection.handlers import apply_once
from docflow_shared.projection.handlers import subscriptions as projection_subscriptions

if TYPE_CHECKING:
    from docflow_signing.context import SigningContext


def subscriptions(ctx: SigningContext) -> dict[str, Handler]:
    projection, processed = ctx.projection, ctx.processed
    return {
        **projection_subscriptions(processed, projection),
        **dict([apply_once(processed, catalogue.DocumentFileDigested, projection.file_digested)]),
    }
