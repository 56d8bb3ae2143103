"""Password payloads."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from docflow_auth.accounts.schemas import NewPassword, Password, Strict
from docflow_auth.security.identifiers import Email


class PasswordForgot(Strict):
    email: Email


class PasswordReset(Strict):
    token: Annotated[str, Field(min_length=16, max_length=200)]
    new_password: NewPassword


class PasswordChange(Strict):
    current_password: Password
    new_password: NewPassword
