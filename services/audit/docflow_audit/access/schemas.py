"""What an event says about who may read a trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AccessKind = Literal["shared", "unshared", "signer", "route"]


@dataclass(frozen=True, slots=True)
class AccessChange:
    """``user_id`` gains or loses access to the trail through ``kind``."""

    kind: AccessKind
    user_id: str
    version: int = 0
