"""Certificate API models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AliasChoices, BaseModel, BeforeValidator, Field

from docflow_shared.stored import Created, StoredTime
from docflow_signing.crypto.certificates import pem_of


class KeyChallengeRead(BaseModel):
    """What the key of a certificate to register must sign (its UTF-8 bytes, as a detached CMS)."""

    challenge: str = Field(description="sign exactly these characters; single use, bound to your account")
    expires_at: datetime


def _pem(value: object) -> object:
    """The stored DER certificate as PEM text."""
    return pem_of(bytes(value)) if isinstance(value, bytes) else value


class CertificateRead(Created):
    subject: str = Field(description="RFC 4514")
    subject_common_name: str | None = None
    issuer: str
    serial_number: str = Field(description="hexadecimal")
    not_before: StoredTime
    not_after: StoredTime
    key_usage: list[str] = []
    key_algorithm: str
    fingerprint_sha256: str
    iin: str | None = Field(None, description="The holder's IIN, for a Kazakh (NCA RK) certificate.")
    email: str | None = None
    trusted: bool = Field(False, description="The certificate chains to a CA DocFlow trusts.")
    trust_problem: str | None = Field(None, description="Why it is not trusted.")
    chain: list[str] = Field(
        [], description="The certification path found to a trusted root, as subjects; empty when untrusted.")
    pem: Annotated[str, BeforeValidator(_pem)] = Field(validation_alias=AliasChoices("der", "pem"))
