"""Kazakh GOST 34.10-2015 (512) CMS signatures: certificates, chain and signed attributes (the subject: kzsubject).

Russian GOST R 34.10-2012 (256 and 512, RFC 9215, as OpenSSL's GOST engine makes them) goes the
same way: only the curves and the order of the signature's bytes differ (``GostAlgorithm``).

pyHanko and ``cryptography`` know no GOST, so a signature whose signer uses the Kazakh algorithm
is verified here end to end, with the same rules as RSA and ECDSA (docs/architecture.md, "GOST
signatures"): every certificate on the path is checked with the GOST curve, the path ends at a
certificate of the trust directory, each certificate is valid at the moment the signature is
judged at, CAs carry basicConstraints cA and keyCertSign, and the signer's key may sign.

The byte conventions are NCA RK's, not CryptoPro's: the public key (X then Y), the digest read
as an integer, and the two halves of the signature (``r`` then ``s``) are all little-endian.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from asn1crypto import cms, core, x509

from docflow_shared.errors import Unprocessable
from docflow_signing.crypto import gost3410, streebog
from docflow_signing.crypto.certificates import SIGNING_KEY_USAGES
from docflow_signing.crypto.cms import DecodedSignature
from docflow_signing.crypto.gostoids import (
    CURVE_2015_512_A,
    KEY_2015_512,
    KZ_2015_512,
    RU_KEY_256,
    RU_KEY_512,
    GostAlgorithm,
    gost_algorithm,
)
from docflow_signing.crypto.kzsubject import kz_signer
from docflow_signing.crypto.signing_times import SigningTimes
from docflow_signing.crypto.trust import TrustStore
from docflow_signing.crypto.verification import NO_CHAIN, VerificationReport

logger = logging.getLogger(__name__)

CURVE = gost3410.TC26_512_A
MAX_PATH = 8


# Curves by the OID in a GOST key's parameters, and the key algorithms that may use them.
CURVES = {
    CURVE_2015_512_A: gost3410.TC26_512_A, "1.2.643.7.1.2.1.2.1": gost3410.TC26_512_A,
    "1.2.643.7.1.2.1.2.2": gost3410.TC26_512_B,
    "1.2.643.2.2.35.1": gost3410.CRYPTOPRO_A, "1.2.643.2.2.35.2": gost3410.CRYPTOPRO_B,
    "1.2.643.2.2.35.3": gost3410.CRYPTOPRO_C, "1.2.643.2.2.36.0": gost3410.CRYPTOPRO_A,
    "1.2.643.2.2.36.1": gost3410.CRYPTOPRO_C,
}
KEY_SIZES = {KEY_2015_512: 64, RU_KEY_512: 64, RU_KEY_256: 32}


def gost_key(cert: x509.Certificate) -> tuple[gost3410.Curve, gost3410.Point]:
    """The curve and public point of a GOST key (Kazakh 2015, Russian 2012); ValueError for any other.

    Both write the key as an OCTET STRING in the BIT STRING: X then Y, each little-endian.
    """
    spki = core.Sequence.load(cert["tbs_certificate"]["subject_public_key_info"].dump())
    algorithm = core.Sequence.load(spki[0].dump())
    key_oid = core.ObjectIdentifier.load(algorithm[0].dump()).dotted
    if key_oid not in KEY_SIZES:
        raise ValueError("not a GOST 34.10-2015 or R 34.10-2012 key")
    parameters = core.Sequence.load(algorithm[1].dump())
    curve = CURVES.get(core.ObjectIdentifier.load(parameters[0].dump()).dotted)
    if curve is None or curve.size != KEY_SIZES[key_oid]:
        raise ValueError("unsupported GOST curve")
    bits = spki[1].contents
    raw = core.OctetString.load(bits[1:]).native if bits[:1] == b"\x00" else b""
    size = curve.size
    if len(raw) != 2 * size:
        raise ValueError("malformed GOST public key")
    point = int.from_bytes(raw[:size], "little"), int.from_bytes(raw[size:], "little")
    if not curve.contains(point):
        raise ValueError("the GOST public key is not on its curve")
    return curve, point


def public_key(cert: x509.Certificate) -> gost3410.Point:
    """The GOST 2015 (512) public point of ``cert``; ValueError for any other key."""
    curve, point = gost_key(cert)
    if curve is not CURVE:
        raise ValueError("not a GOST 34.10-2015 (512) key")
    return point


def verify_value(key: gost3410.Point, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` (r || s, little-endian) signs the Streebog-512 of ``message``."""
    return verify_digest_value(key, streebog.digest(message), signature)


def verify_digest_value(key: gost3410.Point, digest: bytes, signature: bytes) -> bool:
    """Whether an NCA RK signature value (r || s, little-endian) signs a Streebog-512 digest."""
    return verify_with(KZ_2015_512, CURVE, key, digest, signature)


def verify_with(algorithm: GostAlgorithm, curve: gost3410.Curve, key: gost3410.Point, digest: bytes,
                signature: bytes) -> bool:
    """Whether ``signature``, in ``algorithm``'s byte order, signs ``digest`` (read little-endian)."""
    size = curve.size
    if len(signature) != 2 * size:
        return False
    if algorithm.kazakh:
        r, s = int.from_bytes(signature[:size], "little"), int.from_bytes(signature[size:], "little")
    else:  # RFC 9215: s || r, big-endian
        s, r = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    return gost3410.verify(curve, key, int.from_bytes(digest, "little"), r, s)


def sign_digest(private_key: int, digest: bytes) -> bytes:
    """A signature (r || s, little-endian) of a Streebog-512 digest: for DocFlow's own tests and tools."""
    return sign_with(KZ_2015_512, CURVE, private_key, digest)


def sign_with(algorithm: GostAlgorithm, curve: gost3410.Curve, private_key: int, digest: bytes) -> bytes:
    """A signature value of ``digest`` in ``algorithm``'s byte order."""
    r, s = gost3410.sign(curve, private_key, int.from_bytes(digest, "little"))
    if algorithm.kazakh:
        return r.to_bytes(curve.size, "little") + s.to_bytes(curve.size, "little")
    return s.to_bytes(curve.size, "big") + r.to_bytes(curve.size, "big")


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer`` names and signed ``cert`` (with a GOST 2015 key); false for unreadable ones."""
    try:
        return _signed_by(cert.dump(), issuer.dump())
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return False


@functools.lru_cache(maxsize=1024)
def _signed_by(cert_der: bytes, issuer_der: bytes) -> bool:
    """The curve check of one chain link, remembered: the same CA links recur in every signature."""
    cert, issuer = x509.Certificate.load(cert_der), x509.Certificate.load(issuer_der)
    if cert.issuer != issuer.subject:
        return False
    algorithm = gost_algorithm(cert["signature_algorithm"]["algorithm"].dotted)
    if algorithm is None:
        return False
    curve, key = gost_key(issuer)
    digest = streebog.digest(cert["tbs_certificate"].dump(), algorithm.digest_bits)
    return verify_with(algorithm, curve, key, digest, cert["signature_value"].native)


@dataclass(frozen=True, slots=True)
class PathResult:
    """The outcome of GOST path validation: the path (leaf first) or why there is none."""

    trusted: bool
    indication: str | None
    problem: str | None
    path: tuple[x509.Certificate, ...] = ()


def _valid_at(cert: x509.Certificate, moment: datetime) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    return bool(validity["not_before"].native <= moment <= validity["not_after"].native)


def _may_issue(ca: x509.Certificate, below: int) -> bool:
    """basicConstraints cA (with room for ``below`` CAs under it) and, if restricted, keyCertSign."""
    constraints = ca.basic_constraints_value
    if constraints is None or not constraints["ca"].native:
        return False
    limit = constraints["path_len_constraint"].native
    if limit is not None and below > limit:
        return False
    usage = ca.key_usage_value
    return usage is None or "key_cert_sign" in usage.native


def validate_path(cert: x509.Certificate, roots: Sequence[x509.Certificate],
                  others: Iterable[x509.Certificate], moment: datetime) -> PathResult:
    """The path from ``cert`` to a trust anchor at ``moment``, with every link's GOST signature checked.

    Any certificate of the trust directory is an anchor, as for RSA and ECDSA; intermediates
    come from the signature. Every certificate on the path, the anchor included, must be valid
    at ``moment``.
    """
    anchors = {c.dump(): c for c in roots}
    pool = list(anchors.values()) + [c for c in others if c.dump() not in anchors]
    path = [cert]
    while len(path) <= MAX_PATH:
        current = path[-1]
        if current.dump() in anchors:
            return _judge(path, moment)
        issuers = [c for c in pool if c.dump() not in {p.dump() for p in path} and issued_by(current, c)]
        if not issuers:
            break
        path.append(next((c for c in issuers if c.dump() in anchors), issuers[0]))
    return PathResult(False, NO_CHAIN, "The signer certificate does not chain to a trusted CA.")


def _judge(path: list[x509.Certificate], moment: datetime) -> PathResult:
    for cert in path:
        if not _valid_at(cert, moment):
            return PathResult(False, "OUT_OF_BOUNDS_NO_POE",
                              "A certificate of the chain was not valid at the signing time.")
    for below, ca in enumerate(path[1:]):
        if not _may_issue(ca, below):
            return PathResult(False, "CHAIN_CONSTRAINTS_FAILURE", "A certificate of the chain may not issue "
                                                                   "certificates.")
    usage = path[0].key_usage_value
    if usage is None or not SIGNING_KEY_USAGES & set(usage.native):
        return PathResult(False, "CHAIN_CONSTRAINTS_FAILURE", "The signer certificate may not be used for signing.")
    return PathResult(True, None, None, tuple(path))


def _signed_attribute(signer_info: cms.SignerInfo, name: str) -> Any:
    values = [a["values"] for a in signer_info["signed_attrs"] if a["type"].native == name]
    if len(values) != 1 or len(values[0]) != 1:
        raise Unprocessable(f"The signed attribute {name} must occur exactly once.", slug="signature-unreadable")
    return values[0][0].native


def signed_digest(decoded: DecodedSignature, content_digest: bytes,
                  bits: Literal[256, 512] = 512) -> tuple[bytes, bool]:
    """The Streebog (``bits``) the signature value signs, and whether it covers ``content_digest``.

    With signed attributes, the signature covers their DER as a SET (tag 0x31 in place of the
    implicit [0]); their ``messageDigest`` must be the content's Streebog and their
    ``contentType`` id-data. Without them it signs the content digest itself.
    """
    signer_info = decoded.signer_info
    attributes = signer_info["signed_attrs"]
    if isinstance(attributes, core.Void) or len(attributes) == 0:
        return content_digest, True
    if _signed_attribute(signer_info, "content_type") != "data":
        raise Unprocessable("The signed attribute contentType must be id-data.", slug="signature-unreadable")
    message_digest = _signed_attribute(signer_info, "message_digest")
    return streebog.digest(b"\x31" + attributes.dump()[1:], bits), message_digest == content_digest


def verify_signature(decoded: DecodedSignature, content_digest: bytes, trust: TrustStore, *,
                     signer_cert: x509.Certificate, times: SigningTimes) -> VerificationReport:
    """Verify a Kazakh GOST signature over ``content_digest`` (Streebog-512 of the file), trust at ``times.moment``."""
    try:
        return _verify(decoded, content_digest, trust, signer_cert=signer_cert, times=times)
    except (Unprocessable, streebog.GostUnavailable):
        raise
    except Exception as exc:  # any failure on untrusted ASN.1 or keys is the sender's fault, not a 500
        logger.info("GOST signature verification failed: %r", exc)
        raise Unprocessable("The GOST signature cannot be verified: it is malformed.",
                            slug="signature-invalid") from exc


def _verify(decoded: DecodedSignature, content_digest: bytes, trust: TrustStore, *,
            signer_cert: x509.Certificate, times: SigningTimes) -> VerificationReport:
    algorithm = gost_algorithm(decoded.signature_algorithm)
    if algorithm is None:
        raise Unprocessable("The signature is not a GOST signature DocFlow verifies.", slug="signature-algorithm")
    try:
        curve, key = gost_key(signer_cert)
    except ValueError as exc:
        raise Unprocessable(f"The signer certificate has no usable GOST key: {exc}.",
                            slug="signature-invalid") from exc
    digest, intact = signed_digest(decoded, content_digest, algorithm.digest_bits)
    valid = verify_with(algorithm, curve, key, digest, decoded.signer_info["signature"].native)
    others = [c for c in decoded.embedded_certs if c.dump() != signer_cert.dump()]
    path = validate_path(signer_cert, trust.roots, others, times.moment)
    return _report(decoded, signer_cert, times, algorithm, valid=valid, intact=intact, path=path)


def _report(decoded: DecodedSignature, signer_cert: x509.Certificate, times: SigningTimes,
            algorithm: GostAlgorithm, *, valid: bool, intact: bool, path: PathResult) -> VerificationReport:
    """The report of a GOST signature; its revocation is judged afterwards, as for every signature
    (``crypto/revocation.py``: NCA RK's CRLs are GOST-signed and checked with this module)."""
    problems: list[str] = []
    signer = kz_signer(signer_cert)
    if not valid:
        problems.append("The signature value does not match the signer certificate.")
    elif not intact:
        problems.append("The signature was made over different content.")
    trusted = valid and intact and path.trusted
    indication = path.indication
    if valid and intact and path.problem:
        problems.append(path.problem)
    if signer.sign_right is False:
        problems.append(f"The signer ({signer.role}) has no right to sign for the organisation.")
    return VerificationReport(
        intact=intact, valid=valid, trusted=trusted,
        signer_subject=signer_cert.subject.human_friendly, signer_issuer=signer_cert.issuer.human_friendly,
        signer_serial_number=format(signer_cert.serial_number, "x"),
        signer_fingerprint_sha256=hashlib.sha256(signer_cert.dump()).hexdigest(),
        times=times, digest_algorithm=algorithm.digest_name, signature_algorithm=algorithm.name,
        chain=[c.subject.human_friendly for c in path.path] if trusted else [],
        problems=problems, trust_indication=indication,
        kz_signer=signer.to_document() if algorithm.kazakh else None,
    )
