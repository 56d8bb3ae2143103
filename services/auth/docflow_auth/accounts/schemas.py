"""Signup, availability and verification payloads; the user as its owner sees it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from docflow_auth.security.identifiers import Email, FullName, Iin, Phone
from docflow_auth.security.passwords import MAX_LENGTH, MIN_LENGTH, password_problems
from docflow_shared.stored import Created

Locale = Literal["ru", "en"]
Password = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH)]
# A password being chosen: the policy check explains a short one better than a bare length error,
# so the minimum is stated in the schema and enforced by the policy.
NewPassword = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH, json_schema_extra={"minLength": MIN_LENGTH})]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_password_policy(password: str, email: str | None) -> str:
    problems = password_problems(password, email)
    if problems:
        raise PydanticCustomError("password_policy", " ".join(problems))
    return password


class SignupCreate(Strict):
    email: Email
    password: NewPassword
    full_name: FullName
    phone: Phone | None = None
    iin: Iin | None = None
    locale: Locale = "ru"

    @field_validator("password")
    @classmethod
    def _policy(cls, value: str, info: ValidationInfo) -> str:
        return check_password_policy(value, info.data.get("email"))


class UserRead(Created):
    email: str
    full_name: str
    phone: str | None = None
    iin: str | None = None
    locale: Locale = "ru"
    role: str = "user"
    email_verified: bool = False
    # an address asked for by POST /users/me/email; it replaces ``email`` once verified
    pending_email: str | None = None


class SignupRead(UserRead):
    """The new account's profile and, as login answers them, its first access and refresh
    tokens (the access token says ``email_verified: false`` until the address is confirmed)."""

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


class AvailabilityRead(BaseModel):
    """For each value asked about: true when no account uses it."""

    email: bool | None = None
    phone: bool | None = None
    iin: bool | None = None


class EmailCodeVerify(Strict):
    email: Email
    code: Annotated[str, Field(pattern=r"^\d{6}$")]


class VerificationResend(Strict):
    email: Email


class VerificationRead(BaseModel):
    email: str
    email_verified: bool
