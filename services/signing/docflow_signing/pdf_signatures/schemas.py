"""API models of the signatures found inside an uploaded PDF."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from docflow_signing.signatures.schemas import KzSignerRead, RevocationRead


class PdfSignatureRead(BaseModel):
    """One signature field of the PDF, reported like a CMS signature, with what it covers."""

    field_name: str = Field(description="The PDF form field that holds the signature.")
    kind: Literal["signature", "document_timestamp"] = Field(
        description="`document_timestamp`: an RFC 3161 /DocTimeStamp over the document, no signer.")
    supported: bool = Field(description="False when DocFlow does not verify the algorithm (named in `problems`).")
    intact: bool = Field(description="The signed byte ranges hash to the signature's digest.")
    valid: bool = Field(description="The signature value verifies with the signer certificate.")
    trusted: bool = Field(description="Intact, valid, chained to the trust store at `signing_time`, not revoked.")
    signer_subject: str | None = None
    signer_issuer: str | None = None
    signer_serial_number: str | None = None
    signer_fingerprint_sha256: str | None = None
    signature_algorithm: str | None = None
    digest_algorithm: str | None = None
    signing_time: datetime | None = Field(
        None, description="The time the certificate was judged at: `timestamp_time` when a trusted signature "
                          "timestamp proves it, else `received_at`.")
    time_basis: Literal["received", "timestamp"] | None = None
    received_at: datetime | None = None
    claimed_signing_time: datetime | None = Field(
        None, description="The signer's own time (`signingTime`, else the signature dictionary's /M): a claim.")
    timestamp_time: datetime | None = Field(
        None, description="The time a trusted timestamp proves (signature timestamp, or the document timestamp).")
    timestamp_problem: str | None = None
    tsa: str | None = Field(None, description="The timestamp authority of a document timestamp.")
    chain: list[str] = Field(default_factory=list)
    kz_signer: KzSignerRead | None = None
    revocation: RevocationRead | None = Field(
        None, description="The signer certificate's revocation status (null when revocation checking is off).")
    coverage: Literal["ENTIRE_FILE", "ENTIRE_REVISION", "CONTIGUOUS_BLOCK_FROM_START", "UNCLEAR"] | None = Field(
        None, description="What the signature covers: the whole file, a whole revision that later incremental "
                          "updates extend, or less (pyHanko's coverage levels).")
    covers_whole_document: bool | None = Field(
        description="The signature covers every byte of the uploaded file; null when its coverage cannot be told.")
    signed_revision: int = Field(description="The revision (0 = the first) the signature signs.")
    later_revisions: int = Field(description="Incremental updates appended after the signed revision.")
    updated_after_signing: bool = Field(description="Whether incremental updates follow the signed revision.")
    modification_level: Literal["NONE", "LTA_UPDATES", "FORM_FILLING", "ANNOTATIONS", "OTHER"] | None = Field(
        None, description="How far the later updates go (pyHanko's difference analysis): `NONE`, `LTA_UPDATES` "
                          "(validation data, timestamps), `FORM_FILLING` (incl. further signatures), "
                          "`ANNOTATIONS`, `OTHER` (content changed); beyond `FORM_FILLING` is a problem.")
    modifications_permitted: bool | None = Field(
        None, description="Whether the later updates stay within what the signature's certification (DocMDP) "
                          "permits; null when it cannot be told.")
    problems: list[str] = Field(default_factory=list)


class PdfVerifyResult(BaseModel):
    """``POST /signatures/verify-pdf``: the signatures embedded in an uploaded PDF; nothing is stored."""

    file_sha256: str
    revisions: int = Field(description="How many revisions (the original and its incremental updates) the file has.")
    signed: bool = Field(description="Whether the PDF carries any signature field with a signature.")
    signatures: list[PdfSignatureRead] = Field(description="In the order they were added (by signed revision).")
