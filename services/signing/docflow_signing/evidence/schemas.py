"""The evidence report (``?format=json``); the PDF shows the same facts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from docflow_signing.signatures.schemas import CoSignerRead, RevocationRead

NOT_COMPUTED = "not computed"

# NCA RK roles (the extended key usage of the certificate) in Kazakh
KZ_ROLES: dict[str, str] = {
    "person": "Жеке тұлға",
    "head": "Бірінші басшы",
    "employee_signright": "Қол қою құқығы бар қызметкер",
    "employee": "Қызметкер",
    "infosystem": "Ақпараттық жүйе",
    "treasury": "Қазынашылық",
}
SIGN_RIGHT = {True: "Қол қою құқығы бар", False: "Қол қою құқығы жоқ"}


class EvidencePerson(BaseModel):
    user_id: str | None
    full_name: str = ""
    email: str = ""


class EvidenceDocument(BaseModel):
    id: str
    title: str
    status: str
    owner: EvidencePerson


class EvidenceVersion(BaseModel):
    version: int
    title: str
    status: str
    at: datetime


class EvidenceFile(BaseModel):
    id: str
    name: str
    size: int
    content_type: str
    sha256: str
    streebog256: str = Field(description=f"Hex, or `{NOT_COMPUTED}` until a GOST signature needed it.")
    streebog512: str = Field(description=f"Hex, or `{NOT_COMPUTED}` until a GOST signature needed it.")


class EvidenceSigner(BaseModel):
    """Who signed: the account the registered certificate binds, and what the certificate names."""

    user_id: str
    full_name: str = ""
    email: str = ""
    subject: str
    issuer: str
    serial_number: str = Field(description="The certificate's serial number, hexadecimal.")
    fingerprint_sha256: str = Field(description="SHA-256 of the certificate's DER, hexadecimal.")
    iin: str | None = Field(None, description="The holder's IIN, for a Kazakh (NCA RK) certificate.")
    bin: str | None = Field(None, description="The organisation's BIN, for an NCA RK certificate of an organisation.")
    role: str | None = Field(None, description="NCA RK role code (`person`, `head`, `employee_signright`, ...).")
    role_kk: str | None = Field(None, description="The role in Kazakh.")
    sign_right: bool | None = Field(
        None, description="Whether the holder may sign for the organisation; null for a person's certificate.")
    sign_right_kk: str | None = Field(None, description="`sign_right` in Kazakh.")


class EvidenceSignature(BaseModel):
    id: str
    file_id: str
    file_name: str
    file_sha256: str
    signer: EvidenceSigner
    signature_algorithm: str
    digest_algorithm: str
    received_at: datetime
    signing_time: datetime
    time_basis: Literal["received", "timestamp", "claimed"]
    timestamp_time: datetime | None = None
    claimed_signing_time: datetime | None = None
    intact: bool
    valid: bool
    trusted: bool
    chain: list[str]
    revocation: RevocationRead | None = Field(None, description="Null when revocation checking was off.")
    co_signers: list[CoSignerRead] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)


class EvidenceTrailEntry(BaseModel):
    at: datetime
    type: str
    actor: EvidencePerson | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    ip: str = ""
    user_agent: str = ""
    request_id: str = ""


class EvidenceRoute(BaseModel):
    """The route, as the routes service's events tell it (signing keeps them in the trail)."""

    route_events: list[EvidenceTrailEntry] = Field(
        default_factory=list,
        description="`route.*` events of the routes service: created, stages, approvals, declines, delegations, "
                    "completion.")


class EvidenceRead(BaseModel):
    generated_at: datetime
    generated_for: EvidencePerson
    document: EvidenceDocument
    versions: list[EvidenceVersion]
    files: list[EvidenceFile]
    signatures: list[EvidenceSignature]
    route: EvidenceRoute
    trail: list[EvidenceTrailEntry] = Field(description="Actions on the document, oldest first.")
    trail_truncated: bool = False
    audit_export: str = Field(description="Where the hash-chained audit trail of the document is exported.")
