"""Certificate API models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from docflow_shared.mongo import Document
from docflow_signing.crypto.certificates import pem_of


class KeyChallengeRead(BaseModel):
    """What the key of a certificate to register must sign (its UTF-8 bytes, as a detached CMS)."""

    challenge: str = Field(description="sign exactly these characters; single use, bound to your account")
    expires_at: datetime


class CertificateRead(BaseModel):
    id: str
    subject: str
    subject_common_name: str | None
    issuer: str
    serial_number: str = Field(description="hexadecimal")
    not_before: datetime
    not_after: datetime
    key_usage: list[str]
    key_algorithm: str
    fingerprint_sha256: str
    iin: str | None
    email: str | None
    trusted: bool
    trust_problem: str | None
    chain: list[str]
    created_at: datetime
    pem: str

    @classmethod
    def of(cls, doc: Document) -> CertificateRead:
        return cls(
            id=doc["_id"], subject=doc["subject"], subject_common_name=doc.get("subject_common_name"),
            issuer=doc["issuer"], serial_number=doc["serial_number"], not_before=doc["not_before"],
            not_after=doc["not_after"], key_usage=list(doc.get("key_usage") or []),
            key_algorithm=doc["key_algorithm"], fingerprint_sha256=doc["fingerprint_sha256"],
            iin=doc.get("iin"), email=doc.get("email"), trusted=bool(doc.get("trusted")),
            trust_problem=doc.get("trust_problem"), chain=list(doc.get("chain") or []),
            created_at=doc["created_at"], pem=pem_of(bytes(doc["der"])),
        )
