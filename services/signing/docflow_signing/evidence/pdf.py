"""The evidence report as a PDF a person can read, sealed by DocFlow (PAdES) so that it can be
checked (docs/architecture.md, "Evidence")."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from docflow_shared.errors import Unavailable
from docflow_signing.evidence.schemas import EvidenceRead, EvidenceSignature, EvidenceTrailEntry
from docflow_signing.evidence.seal import Seal

FONT = "DejaVu"
# one face: parsing and subsetting a TrueType font is most of a report's CPU (bench/evidence_pdf.py);
# headings differ by size, and DejaVu Sans's digits and a-f are wide enough to keep digests aligned
FONT_FILE = "DejaVuSans.ttf"
HEX_LINE = 64  # characters of a digest per line, so that each SHA-256 stays whole on one line
LABEL_MM = 52.0
LABEL_GREY = 90
TITLE = "Доказательства подписания · Қол қою дәлелдемесі · Signing evidence"


def _time(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "—"


class EvidencePdf:
    """Lays the report out (fpdf2, DejaVu embedded) and seals it (pyHanko)."""

    def __init__(self, *, font_dir: Path, seal: Seal | None) -> None:
        self.font_dir = font_dir
        self.seal = seal

    async def render_sealed(self, report: EvidenceRead) -> bytes:
        """503 when no seal is configured (production without ``SIGNING_EVIDENCE_SEAL_*``): an unsealed
        report could not be checked."""
        if self.seal is None:
            raise Unavailable("No seal certificate is configured for evidence reports; ask for ?format=json.",
                              slug="evidence-seal-missing", retry_after=3600)
        unsigned = await asyncio.to_thread(self.render, report)
        return await self.seal.sign(unsigned, reason=f"DocFlow evidence of document {report.document.id}")

    def render(self, report: EvidenceRead) -> bytes:
        return _Layout(self.font_dir).build(report)


class _Layout:
    def __init__(self, font_dir: Path) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.add_font(FONT, "", str(font_dir / FONT_FILE))
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_margins(12, 12, 12)

    def build(self, r: EvidenceRead) -> bytes:
        pdf = self.pdf
        pdf.set_title(f"DocFlow evidence: {r.document.title}")
        pdf.set_creator("DocFlow")
        pdf.add_page()
        pdf.set_font(FONT, "", 13)
        pdf.multi_cell(0, 7, TITLE, new_x="LMARGIN", new_y="NEXT")
        self.field("Generated", _time(r.generated_at))
        self.field("Requested by", _who(r.generated_for.full_name, r.generated_for.email))

        self.heading("Document")
        self.field("Title", r.document.title)
        self.field("Document id", r.document.id)
        self.field("Status", r.document.status)
        self.field("Owner", _who(r.document.owner.full_name, r.document.owner.email))
        for v in r.versions:
            self.field(f"Version {v.version}", f"{_time(v.at)} · {v.title} · {v.status}")

        self.heading("Files")
        for f in r.files:
            self.field("File", f"{f.name} ({f.size} bytes, {f.content_type})")
            self.field("File id", f.id)
            self.digest("SHA-256", f.sha256)
            self.digest("Streebog-256", f.streebog256)
            self.digest("Streebog-512", f.streebog512)

        self.heading(f"Signatures ({len(r.signatures)})")
        for number, s in enumerate(r.signatures, 1):
            self.signature(number, s)

        self.heading("Route")
        if not r.route.route_events:
            self.text("No signature request or route.")
        for e in r.route.route_events:
            self.trail_entry(e)

        self.heading("Trail")
        for e in r.trail:
            self.trail_entry(e)
        if r.trail_truncated:
            self.text("The trail is longer than this report shows.")
        self.text(f"The hash-chained audit trail of this document: {r.audit_export} "
                  "(verified offline by python -m docflow_audit.verify).")
        return bytes(pdf.output())

    # --- pieces --------------------------------------------------------------------------------

    def signature(self, number: int, s: EvidenceSignature) -> None:
        signer = s.signer
        self.subheading(f"{number}. {_who(signer.full_name, signer.email)}")
        self.field("Signature id", s.id)
        self.field("File", f"{s.file_name} ({s.file_id})")
        self.digest("Signed SHA-256", s.file_sha256)
        self.field("Certificate subject", signer.subject)
        if signer.iin:
            self.field("IIN / ЖСН", signer.iin)
        if signer.bin:
            self.field("BIN / БСН", signer.bin)
        if signer.role:
            self.field("Role / Рөлі", f"{signer.role_kk} ({signer.role})")
        if signer.sign_right_kk:
            self.field("Right to sign", signer.sign_right_kk)
        self.field("Issuer", signer.issuer)
        self.field("Serial number", signer.serial_number)
        self.digest("Certificate SHA-256", signer.fingerprint_sha256)
        self.field("Algorithm", f"{s.signature_algorithm} / {s.digest_algorithm}")
        self.field("Received", _time(s.received_at))
        self.field("Trusted time", f"{_time(s.signing_time)} (time_basis: {s.time_basis})")
        if s.timestamp_time:
            self.field("Timestamp", _time(s.timestamp_time))
        if s.claimed_signing_time:
            self.field("Claimed by signer", _time(s.claimed_signing_time))
        self.field("Verdict", f"intact: {_yes(s.intact)} · valid: {_yes(s.valid)} · trusted: {_yes(s.trusted)}")
        for depth, subject in enumerate(s.chain):
            self.field("Chain" if depth == 0 else "", subject)
        rev = s.revocation
        if rev is None:
            self.field("Revocation", "not checked")
        else:
            source = f"{rev.source} {rev.url or ''}".strip() if rev.source else "no source answered"
            self.field("Revocation", f"{rev.status} · {source} · checked {_time(rev.checked_at)}"
                                     + (f" · revoked {_time(rev.revoked_at)}" if rev.revoked_at else ""))
        for co in s.co_signers:
            kz = co.kz_signer
            label = co.signer_subject or "(unknown)"
            if kz and kz.iin:
                label += f" · IIN {kz.iin}"
            self.field("Co-signer", f"{label} · {co.signature_algorithm} · "
                                    + ("valid" if co.valid else "not valid" if co.supported else "unsupported"))
        for problem in s.problems:
            self.field("Note", problem)

    def trail_entry(self, e: EvidenceTrailEntry) -> None:
        who = _who(e.actor.full_name, e.actor.email) if e.actor else ""
        where = " · ".join(x for x in (e.ip, e.request_id) if x)
        self.field(_time(e.at), " · ".join(x for x in (e.type, who, where) if x))

    def heading(self, text: str) -> None:
        self.pdf.ln(3)
        self.pdf.set_font(FONT, "", 12)
        self.pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")

    def subheading(self, text: str) -> None:
        self.pdf.ln(1)
        self.pdf.set_font(FONT, "", 10)
        self.pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")

    def text(self, text: str) -> None:
        self.pdf.set_font(FONT, "", 9)
        self.pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")

    def label(self, text: str) -> None:
        self.pdf.set_font(FONT, "", 8)
        self.pdf.set_text_color(LABEL_GREY)
        self.pdf.cell(LABEL_MM, 5, text)
        self.pdf.set_text_color(0)

    def field(self, label: str, value: str) -> None:
        self.label(label)
        self.pdf.multi_cell(0, 5, value or "—", new_x="LMARGIN", new_y="NEXT")

    def digest(self, label: str, value: str) -> None:
        lines = [value[i:i + HEX_LINE] for i in range(0, len(value), HEX_LINE)] or ["—"]
        for n, part in enumerate(lines):
            self.label(label if n == 0 else "")
            self.pdf.cell(0, 5, part, new_x="LMARGIN", new_y="NEXT")

def _who(name: str, email: str) -> str:
    return f"{name} <{email}>" if name and email else name or email or "—"


def _yes(value: bool) -> str:
    return "yes" if value else "no"
