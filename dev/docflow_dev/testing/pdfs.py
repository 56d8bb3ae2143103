"""Signed PDFs for demos and tests: a small PDF, pyHanko's PAdES signature with a development
certificate, and the changes made to signed PDFs afterwards (an incremental update, a tampered byte).

Like ``devca``, this stands in for a user's signing tool; DocFlow itself never signs users' PDFs.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic as pdf_generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers import (
    ExternalSigner,
    PdfSignatureMetadata,
    PdfSigner,
    PdfTimeStamper,
    SimpleSigner,
    async_sign_pdf,
)
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from docflow_signing.crypto.devca import Issued, _asn1, _store_of

TEXT = b"Contract between the parties"

# pyHanko's PDF object model is unannotated; this helper only builds a page with it.
generic: Any = pdf_generic


def plain_pdf(text: bytes = TEXT) -> bytes:
    """A one-page PDF showing ``text`` (ASCII), with a classic cross-reference table."""
    stream = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


async def sign_pdf(pdf: bytes, signer: Issued, *, field_name: str = "Signature1", tsa: Issued | None = None,
                   timestamp_at: datetime | None = None, chain: tuple[Issued, ...] = ()) -> bytes:
    """``pdf`` with one more PAdES signature (ETSI.CAdES.detached, SHA-256) by ``signer``, as an incremental
    update; with ``tsa``, a signature timestamp from that authority dated ``timestamp_at`` (now when None)."""
    cert, key = _asn1(signer)
    registry = _store_of([cert, *(_asn1(c)[0] for c in chain)])
    simple = SimpleSigner(signing_cert=cert, signing_key=key, cert_registry=registry)
    stamper = None
    if tsa is not None:
        tsa_cert, tsa_key = _asn1(tsa)
        stamper = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, fixed_dt=timestamp_at)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = PdfSignatureMetadata(field_name=field_name, subfilter=SigSeedSubFilter.PADES)
    out = await async_sign_pdf(writer, meta, signer=simple, timestamper=stamper)
    return bytes(out.getvalue())


async def timestamp_pdf(pdf: bytes, tsa: Issued, *, at: datetime | None = None) -> bytes:
    """``pdf`` with a document timestamp (/DocTimeStamp, RFC 3161) by ``tsa`` dated ``at`` (now when None)."""
    tsa_cert, tsa_key = _asn1(tsa)
    stamper = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, fixed_dt=at)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    output = await PdfTimeStamper(stamper).async_timestamp_pdf(writer, "sha256", validation_paths=[])
    output.seek(0)
    return bytes(output.read())


async def sign_pdf_with(pdf: bytes, cert: asn1_x509.Certificate, make_cms: Callable[[bytes], bytes], *,
                        field_name: str = "Signature1", reserve: int = 16384) -> bytes:
    """``pdf`` with one more signature whose detached CMS ``make_cms`` makes over the signed byte ranges:
    for keys pyHanko cannot use itself (a GOST key signs with ``kzkeys.sign_detached``)."""
    registry = _store_of([cert])
    placeholder = ExternalSigner(signing_cert=cert, cert_registry=registry, signature_value=bytes(64))
    meta = PdfSignatureMetadata(field_name=field_name, md_algorithm="sha256")
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    prepared, _, output = await PdfSigner(meta, signer=placeholder).async_digest_doc_for_signing(
        writer, bytes_reserved=reserve)
    output.seek(0)
    written = output.read()
    signed_ranges = written[:prepared.reserved_region_start] + written[prepared.reserved_region_end:]
    prepared.fill_with_cms(output, make_cms(signed_ranges))
    output.seek(0)
    return bytes(output.read())


def add_page_after_signing(pdf: bytes, text: bytes = b"A clause added after signing") -> bytes:
    """``pdf`` with an incremental update that adds a page: what a signature's later changes look like."""
    writer: Any = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    stream = generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET")
    font = generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Font"),
        generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
        generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
    })
    page = generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Page"),
        generic.NameObject("/MediaBox"): generic.ArrayObject([generic.NumberObject(n) for n in (0, 0, 612, 792)]),
        generic.NameObject("/Contents"): writer.add_object(stream),
        generic.NameObject("/Resources"): generic.DictionaryObject({
            generic.NameObject("/Font"): generic.DictionaryObject({generic.NameObject("/F1"): writer.add_object(font)}),
        }),
    })
    writer.insert_page(page)
    out = io.BytesIO()
    writer.write(out)
    return bytes(out.getvalue())


def tamper(pdf: bytes, old: bytes = TEXT, new: bytes | None = None) -> bytes:
    """``pdf`` with the bytes ``old`` overwritten in place (same length), leaving every offset as it was."""
    new = new if new is not None else old[:-1] + (b"X" if old[-1:] != b"X" else b"Y")
    if len(new) != len(old) or old not in pdf:
        raise ValueError("the replacement must have the same length as text present in the PDF")
    return pdf.replace(old, new, 1)
