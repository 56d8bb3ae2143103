"""Signature API models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from docflow_shared.mongo import Document


class KzSignerRead(BaseModel):
    """Who a Kazakh (NCA RK) certificate names, and the holder's role."""

    iin: str | None = Field(None, description="IIN from the subject's serialNumber (`IIN` + 12 digits).")
    iin_valid: bool | None = Field(
        None, description="Whether the IIN's control digit matches; false for NCA RK test certificates, whose "
                          "IIN is not bound to the account's (see the signing README).")
    bin: str | None = Field(None, description="The organisation's BIN from the subject's OU (`BIN` + 12 digits).")
    surname: str | None = None
    given_name: str | None = None
    common_name: str | None = None
    organisation: str | None = None
    role: Literal["person", "head", "employee_signright", "employee", "infosystem", "treasury"] | None = Field(
        None, description="The role from the extended key usage.")
    sign_right: bool | None = Field(
        None, description="Whether the holder may sign for the organisation (`head`, `employee_signright`); "
                          "false for other organisation roles, null for a person.")


class RevocationRead(BaseModel):
    """The signer certificate's revocation status when DocFlow received the signature, and its source."""

    status: Literal["good", "revoked", "unknown"] = Field(
        description="`unknown`: no source answered (reported as \"revocation unknown\"; see `problems`).")
    checked_at: datetime
    source: Literal["ocsp", "crl"] | None = None
    url: str | None = Field(None, description="The certificate's own OCSP or CRL address (before the URL map).")
    revoked_at: datetime | None = Field(
        None, description="When the certificate was revoked; a signature after it is refused, one before it "
                          "(by `signing_time`) is accepted with both times in `problems`.")
    reason: str | None = None
    this_update: datetime | None = None
    next_update: datetime | None = None
    crl_number: int | None = None
    crl_sha256: str | None = None
    delta_crl_url: str | None = Field(None, description="The delta CRL (freshestCRL) applied to the complete CRL.")
    delta_crl_number: int | None = None
    problems: list[str] = Field(default_factory=list)
    ca_certificates: list[CaRevocationRead] = Field(
        default_factory=list, description="The issuing CA certificates on the path (not the trust anchor), each "
                                          "checked like the signer's: a CA revoked before the signing time refuses "
                                          "the signature as `certificate-revoked`.")


class CaRevocationRead(BaseModel):
    """An issuing CA certificate's revocation status, checked from its own CRL distribution point or OCSP."""

    subject: str
    status: Literal["good", "revoked", "unknown"]
    checked_at: datetime
    source: Literal["ocsp", "crl"] | None = None
    url: str | None = None
    revoked_at: datetime | None = None
    reason: str | None = None
    crl_number: int | None = None
    crl_sha256: str | None = None
    problems: list[str] = Field(default_factory=list)


class ArchiveTimestampRead(BaseModel):
    """The RFC 3161 token DocFlow obtained over the stored signature when it accepted it."""

    requested_at: datetime
    time: datetime | None = None
    tsa: str | None = None
    imprint_sha256: str | None = Field(None, description="SHA-256 of the stored `.p7s`, as the token covers it.")
    problem: str | None = Field(None, description="Why there is no (trusted) archive timestamp.")


class CoSignerRead(BaseModel):
    """Another signer of the same CMS (a co-signature): verified with its embedded certificate, bound to
    no account."""

    supported: bool = Field(description="False when DocFlow does not verify the signer's algorithm "
                                         "(named in `problems`).")
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    signer_subject: str | None = None
    signer_serial_number: str | None = None
    signing_time: datetime | None = None
    signature_algorithm: str
    digest_algorithm: str
    chain: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    kz_signer: KzSignerRead | None = None


class VerificationReportRead(BaseModel):
    """What verifying a signature found."""

    intact: bool = Field(description="The signed digest is the file's: the content was not changed after signing.")
    valid: bool = Field(description="The signature value verifies with the signer certificate's public key.")
    trusted: bool = Field(description="Intact, valid, and the signer certificate chains to a CA DocFlow trusts "
                                      "and was valid (and, when checked, not revoked) at `signing_time`; "
                                      "otherwise `problems` says why not.")
    signer_subject: str
    signer_issuer: str
    signer_serial_number: str = Field(description="hexadecimal")
    signer_fingerprint_sha256: str = Field(description="SHA-256 of the signer certificate's DER, hexadecimal.")
    signing_time: datetime | None = Field(
        description="The time the certificate was judged at: `timestamp_time` when a trusted timestamp "
                    "proves it, else `received_at`.")
    validated_at: datetime
    time_basis: Literal["received", "timestamp", "claimed"] = Field(
        "claimed", description="Which time `signing_time` is: `received` (DocFlow's clock), `timestamp` (a "
                               "trusted RFC 3161 token), `claimed` (reports made before DocFlow stopped "
                               "trusting the signer's clock).")
    received_at: datetime | None = Field(None, description="When DocFlow received the signature (its clock).")
    claimed_signing_time: datetime | None = Field(
        None, description="The signer's own `signingTime` attribute: a claim, never used to judge validity.")
    timestamp_time: datetime | None = Field(
        None, description="The time a trusted RFC 3161 signature timestamp in the CMS proves.")
    timestamp_problem: str | None = Field(
        None, description="Why a timestamp token in the signature was ignored (untrusted TSA, not over this "
                          "signature, invalid).")
    digest_algorithm: str
    signature_algorithm: str
    chain: list[str]
    problems: list[str]
    kz_signer: KzSignerRead | None = Field(
        None, description="For a signature with a Kazakh (NCA RK) GOST certificate: IIN, BIN, names and role.")
    revocation: RevocationRead | None = Field(
        None, description="Revocation status of the signer certificate (null when revocation checking is off).")
    co_signers: list[CoSignerRead] = Field(
        default_factory=list, description="The other signers of a co-signed CMS, each verified on its own; "
                                          "this report is the caller's signer (or, for verify, the first).")


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
    on_behalf_of: str | None = None
    signing_time: datetime = Field(description="The time the signature is known to exist by: `timestamp_time`, "
                                               "else `received_at` (see `time_basis`).")
    time_basis: Literal["received", "timestamp", "claimed"] = "claimed"
    received_at: datetime
    claimed_signing_time: datetime | None = Field(
        None, description="The signer's own `signingTime` attribute, reported as claimed.")
    timestamp_time: datetime | None = None
    created_at: datetime
    trusted: bool
    file_sha256: str
    report: VerificationReportRead
    archive_timestamp: ArchiveTimestampRead | None = None

    @classmethod
    def from_doc(cls, doc: Document) -> SignatureRead:
        """A stored signature; records from before ``received_at`` existed were judged at the claimed time."""
        report: dict[str, Any] = dict(doc["report"])
        legacy = "received_at" not in doc
        return cls(
            id=doc["_id"], document_id=doc["document_id"], file_id=doc["file_id"], signer_id=doc["signer_id"],
            certificate_id=doc["certificate_id"], request_id=doc.get("request_id"),
            on_behalf_of=doc.get("on_behalf_of"),
            signing_time=doc["signing_time"], time_basis=doc.get("time_basis", "claimed"),
            received_at=doc["created_at"] if legacy else doc["received_at"],
            claimed_signing_time=report.get("signing_time") if legacy else doc.get("claimed_signing_time"),
            timestamp_time=doc.get("timestamp_time"), created_at=doc["created_at"], trusted=bool(doc["trusted"]),
            file_sha256=doc["file_sha256"], report=VerificationReportRead.model_validate(report),
            archive_timestamp=doc.get("archive_timestamp"),
        )
