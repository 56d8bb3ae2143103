"""E-mail, phone and IIN: validated and normalised to one stored form each.

Used as pydantic types, so a bad value becomes a 422 problem with a field error.
"""

from __future__ import annotations

from typing import Annotated

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

DEFAULT_PHONE_REGION = "KZ"
IIN_WEIGHTS_FIRST = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
IIN_WEIGHTS_SECOND = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def normalize_email(value: str) -> str:
    """The stored form: validated syntax, IDNA-normalised domain, all lower case."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise PydanticCustomError("email_invalid", "Not a valid e-mail address: {reason}",
                                  {"reason": str(exc)}) from exc
    return result.normalized.lower()


def normalize_phone(value: str) -> str:
    """E.164, reading numbers without a country code as Kazakh."""
    try:
        number = phonenumbers.parse(value.strip(), DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise PydanticCustomError("phone_invalid", "Not a phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise PydanticCustomError("phone_invalid", "Not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def iin_check_digit(first_eleven: str) -> int | None:
    """The Kazakhstan IIN control digit of the first 11 digits; None when no digit fits."""
    digits = [int(c) for c in first_eleven]
    for weights in (IIN_WEIGHTS_FIRST, IIN_WEIGHTS_SECOND):
        rest = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if rest != 10:
            return rest
    return None


def normalize_iin(value: str) -> str:
    iin = value.strip()
    if len(iin) != 12 or not iin.isascii() or not iin.isdigit():
        raise PydanticCustomError("iin_format", "An IIN has exactly 12 digits.")
    if iin_check_digit(iin[:11]) != int(iin[11]):
        raise PydanticCustomError("iin_checksum", "The IIN control digit does not match.")
    return iin


# The JSON schema states the shape; the validators check the rest (deliverable syntax, a valid
# number for its region, the IIN control digit) and answer 422 with the reason.
Email = Annotated[str, Field(max_length=320, json_schema_extra={"format": "email"}),
                  AfterValidator(normalize_email)]
Phone = Annotated[str, Field(max_length=32, json_schema_extra={"pattern": r"^\+?[0-9][0-9 ()-]{6,30}$",
                                                               "examples": ["+77011234567"]}),
                  AfterValidator(normalize_phone)]
Iin = Annotated[str, Field(max_length=12, json_schema_extra={"pattern": r"^[0-9]{12}$",
                                                             "examples": ["900101300017"]}),
                AfterValidator(normalize_iin)]
FullName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(lambda v: _clean_name(v))]


def _clean_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise PydanticCustomError("string_too_short", "The name must not be empty.")
    return name
