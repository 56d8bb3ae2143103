"""Who an NCA RK (Kazakh) certificate names: IIN, BIN, the names, and the role in the organisation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asn1crypto import x509

# Organisation roles of NCA RK certificates, from the extended key usage.
PERSON = "1.2.398.3.3.4.1.1"
ORGANISATION = "1.2.398.3.3.4.1.2"
INFOSYSTEM = "1.2.398.5.19.1.2.2.1"
ORGANISATION_ROLES = {f"{ORGANISATION}.1": "head", f"{ORGANISATION}.2": "employee_signright",
                      f"{ORGANISATION}.5": "employee", f"{ORGANISATION}.6": "treasury"}
SIGN_RIGHT_ROLES = frozenset({"head", "employee_signright"})
IIN_WEIGHTS = ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2))


def iin_valid(iin: str) -> bool:
    """Whether a 12-digit IIN's control digit matches (the same rule auth applies to profiles).

    NCA RK's test PKI issues IINs that fail it; real ones pass (services/signing/README.md).
    """
    if len(iin) != 12 or not iin.isascii() or not iin.isdigit():
        return False
    digits = [int(c) for c in iin]
    for weights in IIN_WEIGHTS:
        rest = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        if rest != 10:
            return rest == digits[11]
    return False


@dataclass(frozen=True, slots=True)
class KzSigner:
    """Who an NCA RK certificate names: the person, the organisation and the role in it."""

    iin: str | None
    bin: str | None
    surname: str | None
    given_name: str | None
    common_name: str | None
    organisation: str | None
    role: str | None
    sign_right: bool | None

    @property
    def iin_valid(self) -> bool | None:
        return None if self.iin is None else iin_valid(self.iin)

    def to_document(self) -> dict[str, Any]:
        return {"iin": self.iin, "iin_valid": self.iin_valid, "bin": self.bin,
                "surname": self.surname, "given_name": self.given_name,
                "common_name": self.common_name, "organisation": self.organisation, "role": self.role,
                "sign_right": self.sign_right}


def _prefixed(value: object, prefix: str) -> str | None:
    text = value if isinstance(value, str) else None
    if text and text.startswith(prefix) and text[len(prefix):].isdigit() and len(text) == len(prefix) + 12:
        return text[len(prefix):]
    return None


def _first(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def role_of(cert: x509.Certificate) -> str | None:
    """The NCA RK role from the extended key usage: person, head, employee_signright, employee, ..."""
    usages = set(cert.extended_key_usage_value.native or []) if cert.extended_key_usage_value else set()
    for oid, role in ORGANISATION_ROLES.items():
        if oid in usages:
            return role
    if INFOSYSTEM in usages:
        return "infosystem"
    if PERSON in usages:
        return "person"
    return None


def kz_signer(cert: x509.Certificate) -> KzSigner:
    """IIN from serialNumber, BIN from OU, the names, and the role of an NCA RK certificate.

    ``sign_right`` says whether the holder may sign for the organisation: true for its head and
    for employees with the right to sign, false for other organisation roles, None for a person.
    """
    subject = cert.subject.native
    role = role_of(cert)
    sign_right = None if role in (None, "person") else role in SIGN_RIGHT_ROLES
    return KzSigner(
        iin=_prefixed(_first(subject.get("serial_number")), "IIN"),
        bin=_prefixed(_first(subject.get("organizational_unit_name")), "BIN"),
        surname=_first(subject.get("surname")), given_name=_first(subject.get("given_name")),
        common_name=_first(subject.get("common_name")), organisation=_first(subject.get("organization_name")),
        role=role, sign_right=sign_right,
    )
