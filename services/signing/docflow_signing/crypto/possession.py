"""Proof of possession: the client signs DocFlow's challenge with the key of the certificate it registers.

Without it anyone could register someone else's public certificate, which is no secret: it sits in
every signature that person made. The proof is a detached CMS signature over the challenge's
bytes (SHA-256 for RSA and ECDSA, Streebog-512 for Kazakh GOST), checked with the uploaded
certificate's own public key (never with a certificate the proof carries), so only the holder of
that key can make it.
"""

from __future__ import annotations

import hashlib
import logging

from asn1crypto import x509
from pyhanko.sign.validation.generic_cms import validate_sig_integrity

from docflow_shared.errors import Unprocessable
from docflow_signing.crypto import kzgost, streebog
from docflow_signing.crypto.cms import DecodedSignature, decode_signature
from docflow_signing.crypto.gostoids import gost_algorithm, is_gost

logger = logging.getLogger(__name__)

PROOF_INVALID = "key-proof-invalid"


def verify_possession(proof: bytes, challenge: bytes, certificate_der: bytes) -> None:
    """Accept ``proof`` only if it signs exactly ``challenge`` with the certificate's key; 422 otherwise."""
    try:
        decoded = decode_signature(proof)
    except Unprocessable as exc:
        raise Unprocessable(f"The key proof is not a usable CMS signature: {exc.detail}",
                            slug=PROOF_INVALID) from exc
    try:
        if is_gost(decoded.signature_algorithm):
            intact, valid = _gost_proof(decoded, challenge, x509.Certificate.load(certificate_der))
        else:
            intact, valid = validate_sig_integrity(
                decoded.signer_info, x509.Certificate.load(certificate_der),
                expected_content_type="data", actual_digest=hashlib.sha256(challenge).digest(),
            )
    except streebog.GostUnavailable:
        raise
    except Exception as exc:  # a malformed or foreign proof is the sender's fault, not a 500
        logger.info("key proof check failed: %r", exc)
        intact = valid = False
    if not (intact and valid):
        raise Unprocessable("The key proof is not a signature of this challenge with the certificate's key.",
                            slug=PROOF_INVALID)


def _gost_proof(decoded: DecodedSignature, challenge: bytes, cert: x509.Certificate) -> tuple[bool, bool]:
    """A GOST proof (Streebog, as NCALayer or OpenSSL sign) checked with the certificate's own key."""
    algorithm = gost_algorithm(decoded.signature_algorithm)
    if algorithm is None:
        return False, False
    curve, key = kzgost.gost_key(cert)
    digest, intact = kzgost.signed_digest(decoded, streebog.digest(challenge, algorithm.digest_bits),
                                          algorithm.digest_bits)
    return intact, kzgost.verify_with(algorithm, curve, key, digest, decoded.signer_info["signature"].native)
