"""Reading X.509 certificates as users upload them (PEM or DER) into the fields DocFlow keeps."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from docflow_shared.errors import Unprocessable
from docflow_signing.crypto.encoding import der_from_upload
from docflow_signing.crypto.gostoids import GOST_KEYS, KEY_2015_512, RU_KEY_256, RU_KEY_512

SIGNING_KEY_USAGES = frozenset({"digital_signature", "non_repudiation"})
IIN_PATTERN = re.compile(r"^IIN(\d{12})$")
GOST_KEY_NAMES = {KEY_2015_512: "GOST34.10-2015-512", RU_KEY_256: "GOSTR34.10-2012-256",
                  RU_KEY_512: "GOSTR34.10-2012-512"}
PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)


@dataclass(frozen=True, slots=True)
class ParsedCertificate:
    """What DocFlow reads from a certificate."""

    der: bytes
    subject: str
    subject_common_name: str | None
    issuer: str
    serial_number: str
    not_before: datetime
    not_after: datetime
    key_usage: tuple[str, ...]
    key_algorithm: str
    fingerprint_sha256: str
    iin: str | None
    email: str | None

    @property
    def gost(self) -> bool:
        return self.key_algorithm in GOST_KEY_NAMES.values()

    @property
    def can_sign(self) -> bool:
        return bool(SIGNING_KEY_USAGES & set(self.key_usage))

    def validity_problem(self, moment: datetime) -> str | None:
        """Why the certificate is not valid at ``moment``, or None."""
        if moment < self.not_before:
            return f"The certificate is not valid before {self.not_before.isoformat()}."
        if moment > self.not_after:
            return f"The certificate expired on {self.not_after.isoformat()}."
        return None


def certificate_der(data: bytes) -> bytes:
    """DER bytes of one certificate given as DER, PEM or base64 text; 422 otherwise."""
    message = "The certificate is neither DER nor PEM."
    return der_from_upload(data, PEM_CERT, unreadable=message, not_der=message, slug="certificate-unreadable")


def parse_certificate(data: bytes) -> ParsedCertificate:
    """Parse an uploaded certificate; 422 with a reason when it cannot be read."""
    der = certificate_der(data)
    _refuse_unsupported_gost(der)
    try:
        cert = x509.load_der_x509_certificate(der)
        parsed = _read(cert, der)
        asn1_x509.Certificate.load(der).native  # noqa: B018 - the trust check parses with asn1crypto
    except Exception as exc:  # any failure on an untrusted certificate is the sender's fault, not a 500
        raise Unprocessable("The certificate cannot be read: it is malformed or uses an unsupported key.",
                            slug="certificate-unreadable") from exc
    return parsed


def bundled_certificates(data: bytes) -> list[asn1_x509.Certificate]:
    """The CA certificates an upload carries after the first PEM block (a leaf-first bundle), to build its path."""
    found = []
    for match in list(PEM_CERT.finditer(data))[1:]:
        try:
            found.append(asn1_x509.Certificate.load(base64.b64decode(b"".join(match.group(1).split()))))
        except (ValueError, TypeError):
            continue
    return found


def _key_oid(der: bytes) -> str | None:
    try:
        spki = asn1_x509.Certificate.load(der)["tbs_certificate"]["subject_public_key_info"]
        return str(core.Sequence.load(core.Sequence.load(spki.dump())[0].dump())[0].dotted)
    except Exception:  # unreadable certificates get their own answer
        return None


def _refuse_unsupported_gost(der: bytes) -> None:
    """422 naming GOST keys other than Kazakh GOST 34.10-2015 (512), which DocFlow cannot check."""
    key_oid = _key_oid(der)
    if key_oid in GOST_KEYS and key_oid not in GOST_KEY_NAMES:
        raise Unprocessable(f"Certificates with this GOST key ({key_oid}) cannot be registered: DocFlow verifies "
                            "Kazakh GOST 34.10-2015 (512) and Russian GOST R 34.10-2012 keys only.",
                            slug="certificate-gost")


def _read(cert: x509.Certificate, der: bytes) -> ParsedCertificate:
    return ParsedCertificate(
        der=der,
        subject=cert.subject.rfc4514_string(),
        subject_common_name=_first(cert.subject, NameOID.COMMON_NAME),
        issuer=cert.issuer.rfc4514_string(),
        serial_number=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_usage=_key_usage(cert),
        key_algorithm=GOST_KEY_NAMES.get(_key_oid(der) or "") or key_algorithm(cert),
        fingerprint_sha256=hashlib.sha256(der).hexdigest(),
        iin=_iin(cert),
        email=_first(cert.subject, NameOID.EMAIL_ADDRESS) or _san_email(cert),
    )


def _first(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attrs = name.get_attributes_for_oid(oid)
    if not attrs:
        return None
    value = attrs[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _iin(cert: x509.Certificate) -> str | None:
    serial = _first(cert.subject, NameOID.SERIAL_NUMBER)
    if serial is None:
        return None
    match = IIN_PATTERN.match(serial.strip())
    return match.group(1) if match else None


def _san_email(cert: x509.Certificate) -> str | None:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    emails = san.get_values_for_type(x509.RFC822Name)
    return emails[0] if emails else None


_KEY_USAGE_FIELDS = (
    "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
    "key_agreement", "key_cert_sign", "crl_sign",
)


def _key_usage(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return ()
    names = []
    for field in _KEY_USAGE_FIELDS:
        if getattr(usage, field):
            names.append("non_repudiation" if field == "content_commitment" else field)
    if usage.key_agreement:
        if usage.encipher_only:
            names.append("encipher_only")
        if usage.decipher_only:
            names.append("decipher_only")
    return tuple(names)


def key_algorithm(cert: x509.Certificate) -> str:
    """A short name of the subject key, e.g. ``RSA-2048`` or ``ECDSA-P256``."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        curves = {"secp256r1": "P256", "secp384r1": "P384", "secp521r1": "P521"}
        return f"ECDSA-{curves.get(key.curve.name, key.curve.name)}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA-{key.key_size}"
    return type(key).__name__


def pem_of(der: bytes) -> str:
    """PEM text of a DER certificate."""
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"

