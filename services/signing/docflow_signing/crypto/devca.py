"""A development CA, user certificates and detached CMS signing, for demos and tests.

DocFlow itself never holds users' keys; this module stands in for a user's signing tool.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol, cast

from asn1crypto import cms as asn1_cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes, SimpleSigner
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

KeyType = Literal["rsa", "ec"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def generate_key(key_type: KeyType) -> PrivateKey:
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate with its private key."""

    key: PrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """Write ``<stem>.pem`` (certificate) and ``<stem>.key`` (private key, mode 0600)."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
        cert_path.write_bytes(self.cert_pem)
        key_path.touch(mode=0o600)
        key_path.write_bytes(self.key_pem)
        return cert_path, key_path


def _name(common_name: str, *, organization: str | None = None, iin: str | None = None,
          email: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if iin:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"))
    if email:
        attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    return x509.Name(attrs)


def key_usage(*, digital_signature: bool = False, content_commitment: bool = False, key_encipherment: bool = False,
              key_cert_sign: bool = False, crl_sign: bool = False) -> x509.KeyUsage:
    """A keyUsage extension with the named bits set and every other bit clear."""
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=content_commitment,
        key_encipherment=key_encipherment, data_encipherment=False, key_agreement=False,
        key_cert_sign=key_cert_sign, crl_sign=crl_sign, encipher_only=False, decipher_only=False)


def create_ca(common_name: str = "DocFlow Development CA", *, key_type: KeyType = "ec",
              days: int = 3650, path_length: int | None = 0) -> Issued:
    """A self-signed CA certificate allowed to sign certificates (``path_length``: how many
    intermediate CAs may stand below it; 0, the default, none)."""
    key = generate_key(key_type)
    name = _name(common_name, organization="DocFlow Development")
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(key, cert)


def issue_user_certificate(
    ca: Issued,
    common_name: str,
    *,
    key_type: KeyType = "ec",
    iin: str | None = None,
    email: str | None = None,
    signing_usage: bool = True,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int = 730,
) -> Issued:
    """A user certificate (digitalSignature + nonRepudiation unless ``signing_usage`` is False)."""
    key = generate_key(key_type)
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    end = not_after or start + timedelta(days=days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, iin=iin, email=email))
        .issuer_name(ca.cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=signing_usage, content_commitment=signing_usage,
                                 key_encipherment=not signing_usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
    )
    if signing_usage:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    if email:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    return Issued(key, builder.sign(ca.key, hashes.SHA256()))


def issue_tsa_certificate(ca: Issued, common_name: str = "DocFlow Development TSA", *,
                          days: int = 730) -> Issued:
    """A time-stamping authority's certificate (extendedKeyUsage timeStamping, critical, per RFC 3161).

    RSA, because pyHanko's local time stamper, which :func:`sign_detached_at` uses, signs with RSA only.
    """
    key = generate_key("rsa")
    start = datetime.now(UTC) - timedelta(days=30)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organization="DocFlow Development"))
        .issuer_name(ca.cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(key, cert)


def _asn1(issued: Issued) -> tuple[asn1_x509.Certificate, asn1_keys.PrivateKeyInfo]:
    key_der = issued.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return asn1_x509.Certificate.load(issued.cert_der), asn1_keys.PrivateKeyInfo.load(key_der)


class _StoreFactory(Protocol):
    """``SimpleCertificateStore.from_certs`` as it behaves: pyhanko_certvalidator leaves it unannotated."""

    def __call__(self, certs: Iterable[asn1_x509.Certificate]) -> SimpleCertificateStore: ...


_store_of = cast(_StoreFactory, SimpleCertificateStore.from_certs)


async def sign_detached_at(data: bytes, signer: Issued, *, signing_time: datetime, tsa: Issued | None = None,
                           timestamp_at: datetime | None = None) -> bytes:
    """A detached CMS whose ``signingTime`` says ``signing_time``, whatever the clock says.

    With ``tsa``, the signature also carries an RFC 3161 signature timestamp from that authority
    (unsigned attribute id-aa-signatureTimeStampToken) dated ``timestamp_at`` (now when None):
    what a signing tool that asks a TSA produces, and what DocFlow accepts as proof of time.
    """
    cert, key = _asn1(signer)
    registry = _store_of([cert])
    simple = SimpleSigner(signing_cert=cert, signing_key=key, cert_registry=registry)
    stamper = None
    if tsa is not None:
        tsa_cert, tsa_key = _asn1(tsa)
        stamper = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, fixed_dt=timestamp_at)
    info = await simple.async_sign_general_data(
        data, "sha256", detached=True, timestamper=stamper,
        signed_attr_settings=PdfCMSSignedAttributes(signing_time=signing_time),
    )
    return bytes(info.dump())


def sign_detached(data: bytes, signer: Issued, *, extra_certs: tuple[x509.Certificate, ...] = ()) -> bytes:
    """A detached CMS signature (DER, SHA-256, signed attributes incl. signingTime) over ``data``."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(signer.cert, signer.key, hashes.SHA256())
    for cert in extra_certs:
        builder = builder.add_certificate(cert)
    return builder.sign(
        serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    )


def key_proof(challenge: str, signer: Issued) -> str:
    """The ``DocFlow-Key-Proof`` header for ``challenge``: a detached CMS signature of it, DER in base64."""
    return base64.b64encode(sign_detached(challenge.encode(), signer)).decode()


def load_issued(cert_path: Path, key_path: Path, password: bytes | None = None) -> Issued:
    """A certificate and key from PEM (or DER) files."""
    cert_data, key_data = cert_path.read_bytes(), key_path.read_bytes()
    cert = (x509.load_pem_x509_certificate(cert_data) if b"-----BEGIN" in cert_data
            else x509.load_der_x509_certificate(cert_data))
    key = (serialization.load_pem_private_key(key_data, password) if b"-----BEGIN" in key_data
           else serialization.load_der_private_key(key_data, password))
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("only RSA and ECDSA keys are supported")
    return Issued(key, cert)


def slug(text: str) -> str:
    """A file-name-safe form of a name."""
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")
    return cleaned or uuid.uuid4().hex[:8]


# --- forgeries for tests of whose signature it is ----------------------------------------------

def twin(of: Issued) -> Issued:
    """A forgery for tests of signer binding: ``of``'s subject, issuer and serial with a key of its own."""
    key = generate_key("ec")
    cert = (
        x509.CertificateBuilder()
        .subject_name(of.cert.subject).issuer_name(of.cert.issuer).public_key(key.public_key())
        .serial_number(of.cert.serial_number)
        .not_valid_before(of.cert.not_valid_before_utc).not_valid_after(of.cert.not_valid_after_utc)
        .add_extension(key_usage(digital_signature=True, content_commitment=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Issued(key, cert)


def _tlv(tag: bytes, content: bytes) -> bytes:
    """One DER element (definite length)."""
    size = len(content)
    if size < 128:
        return tag + bytes([size]) + content
    width = (size.bit_length() + 7) // 8
    return tag + bytes([0x80 | width]) + size.to_bytes(width, "big") + content


def with_embedded(signature: bytes, certs: list[Issued]) -> bytes:
    """``signature`` carrying exactly ``certs``, in this order (asn1crypto would sort the SET, so the
    bytes are put together by hand); the signed attributes and the signature value stay intact."""
    signed = asn1_cms.ContentInfo.load(signature)["content"]
    body = b"".join(signed[name].dump() for name in ("version", "digest_algorithms", "encap_content_info"))
    if certs:
        body += _tlv(b"\xa0", b"".join(c.cert_der for c in certs))
    body += signed["signer_infos"].dump()
    return _tlv(b"\x30", asn1_cms.ContentType("signed_data").dump() + _tlv(b"\xa0", _tlv(b"\x30", body)))
