"""DocFlow's seal on evidence PDFs: a PAdES signature made with pyHanko and a configured
certificate; in development a self-signed seal made in the data dir (docs/architecture.md, "Evidence")."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from io import BytesIO
from pathlib import Path
from typing import cast

from asn1crypto import x509 as asn1_x509
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from docflow_signing.crypto.devca import create_ca, issue_user_certificate

FIELD = "DocFlowSeal"
# ``SimpleCertificateStore.from_certs`` as it behaves: pyhanko_certvalidator leaves it unannotated
_store_of = cast(Callable[[Iterable[asn1_x509.Certificate]], SimpleCertificateStore],
                 SimpleCertificateStore.from_certs)
DEV_CA, DEV_SEAL = "seal-ca", "seal"


class Seal:
    """Signs PDFs with one certificate and key, loaded once."""

    def __init__(self, cert_path: Path, key_path: Path, *, make_if_missing: bool = False) -> None:
        self.cert_path = cert_path
        self.key_path = key_path
        self.make_if_missing = make_if_missing
        self._signer: signers.SimpleSigner | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def development(cls, directory: Path) -> Seal:
        """The data dir's seal, made at first use: a seal certificate issued by a CA of its own
        (``seal-ca.pem``, what a verifier trusts) and stored with that chain."""
        return cls(directory / f"{DEV_SEAL}.pem", directory / f"{DEV_SEAL}.key", make_if_missing=True)

    def _make_development(self) -> None:
        make_seal(self.cert_path.parent)

    def _load(self) -> signers.SimpleSigner:
        if self.make_if_missing and not self.cert_path.exists():
            self._make_development()
        certs = list(load_certs_from_pemder_data(self.cert_path.read_bytes()))
        key = load_private_key_from_pemder_data(self.key_path.read_bytes(), passphrase=None)
        return signers.SimpleSigner(signing_cert=certs[0], signing_key=key, cert_registry=_store_of(certs))

    async def signer(self) -> signers.SimpleSigner:
        async with self._lock:
            if self._signer is None:
                self._signer = await asyncio.to_thread(self._load)
            return self._signer

    async def sign(self, pdf: bytes, *, reason: str) -> bytes:
        """The sealed PDF; pyHanko's work (~100 ms of CPU, mostly building the CMS) runs in a thread,
        off the event loop."""
        signer = await self.signer()
        return await asyncio.to_thread(_sign, pdf, signer, reason)


def make_seal(directory: Path) -> bool:
    """A seal of its own in ``directory`` unless one is there: ``seal.pem`` (the seal certificate,
    then the CA that issued it), ``seal.key``, and ``seal-ca.pem``, the CA a verifier trusts (its key
    is thrown away). True when it made one."""
    if (directory / f"{DEV_SEAL}.pem").exists():
        return False
    ca = create_ca("DocFlow Evidence Seal CA")
    seal = issue_user_certificate(ca, "DocFlow evidence seal")
    seal.write(directory, DEV_SEAL)
    ca.write(directory, DEV_CA)
    (directory / f"{DEV_CA}.key").unlink()
    (directory / f"{DEV_SEAL}.pem").write_bytes(seal.cert_pem + ca.cert_pem)
    return True


def _sign(pdf: bytes, signer: signers.SimpleSigner, reason: str) -> bytes:
    meta = signers.PdfSignatureMetadata(field_name=FIELD, reason=reason, location="DocFlow", name="DocFlow")
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    out: BytesIO = signers.sign_pdf(writer, meta, signer=signer)
    return out.getvalue()
