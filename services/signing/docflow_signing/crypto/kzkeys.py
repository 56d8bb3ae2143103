"""Kazakh (NCA RK) PKCS#12 keys, and detached GOST 34.10-2015 (512) CMS signatures made with them;
Russian GOST R 34.10-2012 keys as OpenSSL's GOST engine writes them (PKCS#8), and their signatures.

``cryptography`` and ``openssl pkcs12`` cannot read these keys (GOST), so the container is read
here: NCA RK's files shroud the key bag with pbeWithSHA1And3-KeyTripleDES-CBC and the PKCS#12
key derivation of RFC 7292 appendix B. The key is an OCTET STRING holding a 64-byte
little-endian scalar. The signatures are made as NCALayer makes them (signed attributes over
Streebog-512, the chain embedded), so DocFlow's tests and tools produce what its users upload.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from asn1crypto import cms, core, pem, pkcs12, x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from docflow_signing.crypto import gost3410, kzgost, streebog
from docflow_signing.crypto.gostoids import (
    RU_2012_256,
    RU_2012_512,
    RU_KEY_256,
    RU_KEY_512,
    SIGNATURE_2015_512,
    STREEBOG_512,
    GostAlgorithm,
)

SHROUDED_3DES = "pkcs12_sha1_tripledes_3key"
KDF_KEY, KDF_IV, KDF_MAC = 1, 2, 3
RU_KEYS = {RU_KEY_256: RU_2012_256, RU_KEY_512: RU_2012_512}


@dataclass(frozen=True, slots=True)
class KzKey:
    """An NCA RK certificate and its private scalar."""

    cert: x509.Certificate
    private_key: int


def _pkcs12_kdf(password: bytes, salt: bytes, iterations: int, purpose: int, size: int) -> bytes:
    """RFC 7292 appendix B.2 with SHA-1 (block 64 bytes): PBE keys, IVs and the MAC key."""
    v = 64

    def stretch(data: bytes) -> bytes:
        length = v * ((len(data) + v - 1) // v)
        return (data * (length // len(data) + 1))[:length] if data else b""

    block = stretch(salt) + stretch(password)
    out = b""
    while len(out) < size:
        a = bytes([purpose]) * v + block
        for _ in range(iterations):
            a = hashlib.sha1(a).digest()
        out += a
        b = int.from_bytes(stretch(a), "big")
        block = b"".join(((int.from_bytes(block[i:i + v], "big") + b + 1) % (1 << 8 * v)).to_bytes(v, "big")
                         for i in range(0, len(block), v))
    return out[:size]


def _check_mac(pfx: pkcs12.Pfx, password: bytes) -> None:
    """ValueError unless the PFX's SHA-1 MAC matches: the way to tell a wrong password."""
    mac_data = pfx["mac_data"]
    if isinstance(mac_data, core.Void):
        return
    if mac_data["mac"]["digest_algorithm"]["algorithm"].native != "sha1":
        raise ValueError("unsupported PKCS#12 MAC algorithm")
    key = _pkcs12_kdf(password, mac_data["mac_salt"].native, mac_data["iterations"].native, KDF_MAC, 20)
    content = pfx["auth_safe"]["content"].native
    if not hmac.compare_digest(hmac.new(key, content, hashlib.sha1).digest(), mac_data["mac"]["digest"].native):
        raise ValueError("wrong PKCS#12 password (or a damaged file)")


def _decrypt(shrouded: pkcs12.SafeBag, password: bytes) -> bytes:
    algorithm = shrouded["encryption_algorithm"]
    if algorithm["algorithm"].native != SHROUDED_3DES:
        raise ValueError(f"unsupported key bag encryption {algorithm['algorithm'].native}")
    salt, rounds = algorithm["parameters"]["salt"].native, algorithm["parameters"]["iterations"].native
    decryptor = Cipher(TripleDES(_pkcs12_kdf(password, salt, rounds, KDF_KEY, 24)),
                       modes.CBC(_pkcs12_kdf(password, salt, rounds, KDF_IV, 8))).decryptor()
    plain = decryptor.update(shrouded["encrypted_data"].native) + decryptor.finalize()
    return plain[:-plain[-1]]


def read_pkcs12(data: bytes, password: str, cert: x509.Certificate) -> KzKey:
    """The private scalar for ``cert`` from an NCA RK PKCS#12; ValueError if it is not there.

    The certificate is given, not read from the file: NCA RK's certificate bags are encrypted with
    40-bit RC2, which ``cryptography`` no longer offers; the scalar is checked against it.
    """
    secret = (password + "\0").encode("utf-16-be")
    pfx = pkcs12.Pfx.load(data)
    _check_mac(pfx, secret)
    wanted = kzgost.public_key(cert)
    for info in pfx.authenticated_safe:
        if info["content_type"].native != "data":
            continue
        for bag in pkcs12.SafeContents.load(info["content"].native):
            if bag["bag_id"].native != "pkcs8_shrouded_key_bag":
                continue
            key_info = core.Sequence.load(_decrypt(bag["bag_value"], secret))
            scalar = int.from_bytes(core.OctetString.load(key_info[2].contents).native, "little")
            if 0 < scalar < kzgost.CURVE.q and gost3410.public_key(kzgost.CURVE, scalar) == wanted:
                return KzKey(cert, scalar)
    raise ValueError("the PKCS#12 holds no GOST key for this certificate")


def sign_detached(content: bytes, key: KzKey, *, chain: Iterable[x509.Certificate] = (),
                  signing_time: datetime | None = None, digest_oid: str = STREEBOG_512,
                  signature_oid: str = SIGNATURE_2015_512) -> bytes:
    """A detached CMS (DER) over ``content``: contentType, signingTime and messageDigest signed."""
    return _detached(content, key.cert, lambda digest: kzgost.sign_digest(key.private_key, digest), bits=512,
                     chain=chain, signing_time=signing_time, digest_oid=digest_oid,
                     signature_algorithm={"algorithm": signature_oid, "parameters": core.Null()})


def _detached(content: bytes, cert: x509.Certificate, sign: Callable[[bytes], bytes], *, bits: Literal[256, 512],
              chain: Iterable[x509.Certificate], signing_time: datetime | None, digest_oid: str,
              signature_algorithm: dict[str, Any]) -> bytes:
    attributes = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "signing_time",
                          "values": [cms.Time({"utc_time": signing_time or datetime.now(UTC)})]}),
        cms.CMSAttribute({"type": "message_digest", "values": [streebog.digest(content, bits)]}),
    ])
    value = sign(streebog.digest(b"\x31" + attributes.dump()[1:], bits))
    tbs = cert["tbs_certificate"]
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": tbs["issuer"], "serial_number": tbs["serial_number"]})}),
        "digest_algorithm": {"algorithm": digest_oid},
        "signed_attrs": attributes,
        "signature_algorithm": signature_algorithm,
        "signature": value,
    })
    signed = cms.SignedData({
        "version": "v1", "digest_algorithms": [{"algorithm": digest_oid}],
        "encap_content_info": {"content_type": "data"},
        "certificates": [cert, *chain], "signer_infos": [signer],
    })
    der: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
    return der


@dataclass(frozen=True, slots=True)
class GostKey:
    """A Russian GOST R 34.10-2012 key as OpenSSL's GOST engine writes it (PKCS#8), with its certificate."""

    cert: x509.Certificate
    private_key: int
    curve: gost3410.Curve
    key_oid: str
    algorithm: GostAlgorithm


def is_gost_private_key(data: bytes) -> bool:
    """Whether ``data`` is a PEM or DER PKCS#8 private key with a Russian GOST R 34.10-2012 key."""
    try:
        return _pkcs8_oid(data) in RU_KEYS
    except ValueError:
        return False


def _pkcs8(data: bytes) -> core.Sequence:
    der = pem.unarmor(data)[2] if pem.detect(data) else data
    return core.Sequence.load(der)


def _pkcs8_oid(data: bytes) -> str:
    try:
        info = _pkcs8(data)
        return str(core.ObjectIdentifier.load(core.Sequence.load(info[1].dump())[0].dump()).dotted)
    except Exception as exc:  # anything unreadable is not such a key
        raise ValueError("not a PKCS#8 private key") from exc


def read_gost_key(data: bytes, cert: x509.Certificate) -> GostKey:
    """The private scalar of an OpenSSL GOST R 34.10-2012 PKCS#8 key (PEM or DER), checked against ``cert``.

    The engine writes the scalar as an OCTET STRING, little-endian (older versions: an INTEGER).
    """
    key_oid = _pkcs8_oid(data)
    if key_oid not in RU_KEYS:
        raise ValueError("not a GOST R 34.10-2012 private key")
    raw = core.OctetString.load(_pkcs8(data)[2].dump()).native
    if raw[:1] == b"\x04":
        raw = core.OctetString.load(raw).native
        scalar = int.from_bytes(raw, "little")
    elif raw[:1] == b"\x02":
        scalar = int(core.Integer.load(raw).native)
    else:
        scalar = int.from_bytes(raw, "little")
    curve, point = kzgost.gost_key(cert)
    if not 0 < scalar < curve.q or gost3410.public_key(curve, scalar) != point:
        raise ValueError("the private key is not the certificate's key")
    return GostKey(cert, scalar, curve, key_oid, RU_KEYS[key_oid])


def sign_detached_gost(content: bytes, key: GostKey, *, chain: Iterable[x509.Certificate] = (),
                       signing_time: datetime | None = None) -> bytes:
    """A detached CMS (DER) with a Russian GOST key, as ``openssl cms -sign -engine gost`` makes it."""
    return _detached(content, key.cert,
                     lambda digest: kzgost.sign_with(key.algorithm, key.curve, key.private_key, digest),
                     bits=key.algorithm.digest_bits, chain=chain, signing_time=signing_time,
                     digest_oid=key.algorithm.digest_oid, signature_algorithm={"algorithm": key.key_oid})


def key_proof(challenge: str, key: KzKey) -> str:
    """The ``DocFlow-Key-Proof`` header for ``challenge`` with an NCA RK key: a detached GOST CMS of it, base64 DER."""
    return base64.b64encode(sign_detached(challenge.encode(), key)).decode()
