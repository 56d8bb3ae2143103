"""Consumers of user.* and document.* events (``docflow_shared.projection.handlers``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docflow_shared.bus import Handler
from docflow_shared.projection.handlers import subscriptions as projection_subscriptions

if TYPE_CHECKING:
    from docflow_routes.context import RoutesContext


def subscriptions(ctx: RoutesContext) -> dict[str, Handler]:
    return projection_subscriptions(ctx.processed, ctx.projection)
