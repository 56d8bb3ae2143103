"""Who an event concerns, in the shape every event that leads to an e-mail carries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Locale = Literal["ru", "en"]


class Person(BaseModel):
    """Someone an event concerns, as much as mail needs to write to them."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    user_id: str
    email: str
    full_name: str = ""
    locale: Locale = "ru"


class Client(BaseModel):
    """Where a request came from, as the service that answered it saw it: the client's address
    (from the gateway's X-Forwarded-For, believed only from trusted proxies), its user agent and
    the request id (``X-Request-ID``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    ip: str = ""
    user_agent: str = ""
    request_id: str = ""
