"""Signature request API models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

SignerEmail = Annotated[str, Field(min_length=3, max_length=320, json_schema_extra={"format": "email"})]
Order = Literal["parallel", "sequential"]
RequestStatus = Literal["open", "completed", "cancelled", "expired", "declined"]
SignerStatus = Literal["pending", "signed", "approved", "declined", "removed", "undisclosed"]
Role = Literal["approve", "sign", "cc"]
Rule = Literal["all", "any"]
MAX_PARTICIPANTS = 50
SIGN_RIGHT_HELP = ("a signature completes a signer's step only if its certificate gives the right to sign for "
                   "the organisation (a Kazakh NCA RK certificate of its head or of an employee with the right "
                   "to sign); any other signature is recorded under the signer as without the right to sign, "
                   "and the signer stays pending")


class ParticipantCreate(BaseModel):
    email: SignerEmail
    role: Role = "sign"
    external: bool = Field(False, description="may take part without an account: while no account has proven "
                                              "the address, it gets a single-use link when its stage opens")


class StageCreate(BaseModel):
    """One stage: it opens when the one before completes, and completes when all (or any one)
    of its ``approve`` and ``sign`` participants have acted; ``cc`` participants only watch."""

    rule: Rule = "all"
    participants: list[ParticipantCreate] = Field(min_length=1, max_length=MAX_PARTICIPANTS)
    require_sign_right: bool = Field(False, description=SIGN_RIGHT_HELP)


class SignatureRequestCreate(BaseModel):
    """Either ``signers`` with ``order`` (every participant signs: ``parallel`` is one stage,
    ``sequential`` one stage per signer) or ``stages``."""

    signers: list[SignerEmail] = Field(default_factory=list, max_length=MAX_PARTICIPANTS,
                                       json_schema_extra={"uniqueItems": True, "minItems": 1},
                                       description="e-mail addresses, each once; an address no account "
                                                   "has proven waits for whoever proves it")
    stages: list[StageCreate] = Field(default_factory=list, max_length=20, json_schema_extra={"minItems": 1})
    order: Order = "parallel"
    message: str = Field("", max_length=2000)
    expires_at: AwareDatetime | None = None
    hide_signatures_until_complete: bool = False
    require_sign_right: bool = Field(False, description=SIGN_RIGHT_HELP + " (every stage)")
    reminder_seconds: float | None = Field(None, gt=0, le=30 * 86400,
                                           description="interval between reminders of an open stage (default: "
                                                       "the service's; at least ROUTES_REMINDER_MIN_SECONDS)")

    @model_validator(mode="after")
    def _one_route(self) -> SignatureRequestCreate:
        if bool(self.signers) == bool(self.stages):
            raise ValueError("give either signers or stages (not empty)")
        cleaned = [email.strip() for _, _, email in self.route()]
        if any("@" not in v or len(v) > 320 for v in cleaned):
            raise ValueError("every participant must be an e-mail address")
        if len({v.lower() for v in cleaned}) != len(cleaned):
            raise ValueError("a participant is listed twice")
        if len(cleaned) > MAX_PARTICIPANTS:
            raise ValueError(f"at most {MAX_PARTICIPANTS} participants")
        if not any(role != "cc" for _, role, _ in self.route()):
            raise ValueError("a route needs someone to approve or sign")
        return self

    def outsiders(self) -> set[str]:
        """Addresses that may take part through a link (lower case)."""
        return {p.email.strip().lower() for stage in self.stages for p in stage.participants if p.external}

    def route(self) -> list[tuple[int, str, str]]:
        """(stage, role, address) of every participant, in order."""
        if self.stages:
            return [(index, p.role, p.email.strip()) for index, stage in enumerate(self.stages)
                    for p in stage.participants]
        signers = [e.strip() for e in self.signers]
        if self.order == "sequential":
            return [(index, "sign", email) for index, email in enumerate(signers)]
        return [(0, "sign", email) for email in signers]

    def sign_right_required(self, stage: int) -> bool:
        """Whether the signers of ``stage`` must hold the right to sign."""
        return self.require_sign_right or bool(self.stages and self.stages[stage].require_sign_right)

    def rules(self) -> list[str]:
        if self.stages:
            return [stage.rule for stage in self.stages]
        return ["all"] * (len(self.signers) if self.order == "sequential" else 1)


class DeclineBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="shown to the owner and kept in the audit trail")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the reason may not be blank")
        return value


class DelegateBody(BaseModel):
    email: SignerEmail
    until: AwareDatetime | None = Field(None, description="the delegation ends then (none: until the route ends)")


class SignatureWithoutRight(BaseModel):
    signature_id: str
    signed_at: datetime
    signer_role: str | None = Field(None, description="the certificate holder's role (Kazakh certificates); "
                                                      "null for certificates that state none")


class SignerRead(BaseModel):
    """``delivery``: ``delivered`` when the signer is the account that has proven ``email``;
    ``pending`` (``user_id`` null) while no account has, the request waiting for whoever proves it."""

    user_id: str | None
    email: str
    full_name: str
    position: int
    stage: int = 0
    role: Role = "sign"
    status: SignerStatus
    signed_at: datetime | None = None
    acted_at: datetime | None = None
    acted_by: str | None = None
    decline_reason: str | None = None
    delegate_email: str | None = None
    delegate_until: datetime | None = None
    signature_id: str | None = None
    delivery: Literal["delivered", "pending"] = "delivered"
    require_sign_right: bool = False
    signatures_without_sign_right: list[SignatureWithoutRight] = Field(
        default_factory=list, description="signatures this signer made under the request with a certificate "
                                          "that gives no right to sign, which the route did not accept")


class SignatureRequestRead(BaseModel):
    id: str
    document_id: str
    owner_id: str
    order: Order
    message: str
    expires_at: datetime | None
    hide_signatures_until_complete: bool
    status: RequestStatus
    created_at: datetime
    closed_at: datetime | None = None
    stages: list[Rule] = []
    current_stage: int | None = None
    signers: list[SignerRead]


class AssignedRequestRead(BaseModel):
    """A request the caller is asked to sign, as ``GET /signature-requests`` lists it."""

    request_id: str
    document_id: str
    document_title: str
    owner_id: str
    owner_name: str
    order: Order
    message: str
    expires_at: datetime | None
    status: RequestStatus
    position: int
    signer_status: SignerStatus
    your_turn: bool
    created_at: datetime
