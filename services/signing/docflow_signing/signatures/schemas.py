"""Signature API models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from docflow_shared.mongo import Document


class VerificationReportRead(BaseModel):
    """What verifying a signature found."""

    intact: bool
    valid: bool
    trusted: bool
    signer_subject: str
    signer_issuer: str
    signer_serial_number: str
    signer_fingerprint_sha256: str
    signing_time: datetime | None
    validated_at: datetime
    digest_algorithm: str
    signature_algorithm: str
    chain: list[str]
    problems: list[str]


class VerifyResult(VerificationReportRead):
    """``POST /signatures/verify``: the report plus the SHA-256 of the uploaded file."""

    file_sha256: str
    certificate_id: str | None = None


class SignatureRead(BaseModel):
    id: str
    document_id: str
    file_id: str
    signer_id: str
    certificate_id: str
    request_id: str | None
    signing_time: datetime
    created_at: datetime
    trusted: bool
    file_sha256: str
    report: VerificationReportRead

    @classmethod
    def of(cls, doc: Document) -> SignatureRead:
        report: dict[str, Any] = dict(doc["report"])
        return cls(
            id=doc["_id"], document_id=doc["document_id"], file_id=doc["file_id"], signer_id=doc["signer_id"],
            certificate_id=doc["certificate_id"], request_id=doc.get("request_id"),
            signing_time=doc["signing_time"], created_at=doc["created_at"], trusted=bool(doc["trusted"]),
            file_sha256=doc["file_sha256"], report=VerificationReportRead.model_validate(report),
        )
