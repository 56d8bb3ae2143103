"""Verifying the signatures embedded in an uploaded PDF, with the trust, time and revocation rules of CMS ones."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from docflow_shared.mongo import utc_now
from docflow_signing.crypto.pades import read_signatures
from docflow_signing.crypto.revocation import RevocationPolicy
from docflow_signing.crypto.trust import TrustStore
from docflow_signing.pdf_signatures.schemas import PdfSignatureRead, PdfVerifyResult


@dataclass(kw_only=True, eq=False)
class PdfSignatureService:
    trust: TrustStore
    tsa_trust: TrustStore
    skew_seconds: int
    revocation: RevocationPolicy | None = None

    async def verify(self, *, data: bytes) -> PdfVerifyResult:
        """Every signature of the PDF ``data`` judged now (or at a trusted timestamp's time); 422 if unreadable."""
        found = await read_signatures(data, trust=self.trust, tsa_trust=self.tsa_trust, received_at=utc_now(),
                                      skew_seconds=self.skew_seconds, revocation=self.revocation)
        return PdfVerifyResult(
            file_sha256=hashlib.sha256(data).hexdigest(), revisions=found.revisions,
            signed=bool(found.signatures),
            signatures=[PdfSignatureRead.model_validate(s.to_document()) for s in found.signatures],
        )
