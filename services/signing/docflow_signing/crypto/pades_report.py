"""What DocFlow reports of each signature field of a PDF (``crypto.pades`` fills it in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from asn1crypto import x509

from docflow_signing.crypto.verification import VerificationReport

Kind = Literal["signature", "document_timestamp"]

@dataclass(slots=True)
class PdfSignature:
    """One signature field of a PDF: its CMS report (None when it could not be verified) and its coverage."""

    field_name: str
    kind: Kind
    signed_revision: int
    later_revisions: int
    coverage: str | None
    modification_level: str | None
    modifications_permitted: bool | None
    supported: bool = True
    report: VerificationReport | None = None
    signature_algorithm: str | None = None
    digest_algorithm: str | None = None
    timestamp_time: datetime | None = None
    tsa: str | None = None
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    problems: list[str] = field(default_factory=list)
    signer_cert: x509.Certificate | None = None
    pool: tuple[x509.Certificate, ...] = ()

    @property
    def updated_after(self) -> bool:
        """Whether incremental updates were appended after the revision this signature signs."""
        return self.later_revisions > 0

    def to_document(self) -> dict[str, Any]:
        base: dict[str, Any] = {
            "intact": self.intact, "valid": self.valid, "trusted": self.trusted,
            "signature_algorithm": self.signature_algorithm, "digest_algorithm": self.digest_algorithm,
            "timestamp_time": self.timestamp_time, "chain": [], "problems": [],
        }
        if self.report is not None:
            base = self.report.to_document()
        elif self.signer_cert is not None:  # not verified, but whose it claims to be is still worth saying
            base.update(signer_subject=self.signer_cert.subject.human_friendly,
                        signer_issuer=self.signer_cert.issuer.human_friendly,
                        signer_serial_number=format(self.signer_cert.serial_number, "x"))
        whole = None if self.coverage is None else self.coverage == "ENTIRE_FILE"
        return {
            **base, "field_name": self.field_name, "kind": self.kind, "supported": self.supported,
            "tsa": self.tsa, "coverage": self.coverage, "covers_whole_document": whole,
            "signed_revision": self.signed_revision, "later_revisions": self.later_revisions,
            "updated_after_signing": self.updated_after, "modification_level": self.modification_level,
            "modifications_permitted": self.modifications_permitted,
            "problems": [*base["problems"], *self.problems],
        }


@dataclass(frozen=True, slots=True)
class PdfSignatures:
    """Every signature field of a PDF, in the order they were added, and the file's revision count."""

    revisions: int
    signatures: list[PdfSignature]
