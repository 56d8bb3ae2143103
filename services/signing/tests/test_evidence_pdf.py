"""The evidence PDF on its own: Kazakh and Cyrillic text that a reader gets back, a seal, and 503
without a seal certificate (``docflow_signing.evidence.pdf``)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from docflow_shared.errors import Unavailable
from docflow_signing.evidence.pdf import EvidencePdf
from docflow_signing.evidence.schemas import (
    EvidenceDocument,
    EvidenceFile,
    EvidencePerson,
    EvidenceRead,
    EvidenceRoute,
)
from docflow_signing.evidence.seal import FIELD, Seal
from docflow_signing.settings import SigningSettings

FONT_DIR = Path(SigningSettings.model_fields["evidence_font_dir"].default)
TITLE = "Шарт: ә ғ қ ң ө ұ ү һ і"


def report() -> EvidenceRead:
    now = datetime.now(UTC)
    owner = EvidencePerson(user_id="usr_owner", full_name="Сәрсенбаева Әйгерім", email="a@example.com")
    return EvidenceRead(
        generated_at=now, generated_for=owner,
        document=EvidenceDocument(id="d" * 32, title=TITLE, status="draft", owner=owner), versions=[],
        files=[EvidenceFile(id="f" * 32, name="contract.pdf", size=10, content_type="application/pdf",
                            sha256="ab" * 32, streebog256="not computed", streebog512="not computed")],
        signatures=[], route=EvidenceRoute(), trail=[], audit_export="/api/v1/documents/x/audit/export")


@pytest.mark.skipif(not (FONT_DIR / "DejaVuSans.ttf").exists() or shutil.which("pdftotext") is None,
                    reason="needs fonts-dejavu-core and poppler-utils")
class TestRenderSealed:
    async def test_kazakh_text_reads_back_and_the_seal_is_there(self, tmp_path: Path) -> None:
        pdf = await EvidencePdf(font_dir=FONT_DIR, seal=Seal.development(tmp_path / "seal")).render_sealed(report())
        (tmp_path / "r.pdf").write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], check=True, capture_output=True,
                              text=True).stdout
        assert TITLE in text and "Сәрсенбаева Әйгерім" in text and "ab" * 32 in text
        assert f"/T ({FIELD})".encode() in pdf and (tmp_path / "seal" / "seal-ca.pem").exists()

    async def test_without_a_seal_certificate_the_pdf_is_503(self) -> None:
        with pytest.raises(Unavailable) as refused:
            await EvidencePdf(font_dir=FONT_DIR, seal=None).render_sealed(report())
        assert refused.value.slug == "evidence-seal-missing"
