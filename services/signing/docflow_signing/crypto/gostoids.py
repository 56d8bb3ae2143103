"""Object identifiers of GOST algorithms: those DocFlow verifies and those it names as unsupported.

Kept apart from ``kzgost.py`` so that decoding a CMS (``cms.py``) can route and refuse by
algorithm without importing the GOST verifier, which itself builds on ``cms.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from docflow_shared.errors import Unprocessable

SIGNATURE_2015_512 = "1.2.398.3.10.1.1.2.3.2"
KEY_2015_512 = "1.2.398.3.10.1.1.2.2"
CURVE_2015_512_A = "1.2.398.3.10.1.1.2.2.1"
STREEBOG_512 = "1.2.398.3.10.1.3.3"
SIGNATURE_ALGORITHMS = frozenset({SIGNATURE_2015_512, KEY_2015_512})
# Russian GOST R 34.10-2012 (RFC 9215): key and signature algorithms, Streebog digests.
RU_KEY_256, RU_KEY_512 = "1.2.643.7.1.1.1.1", "1.2.643.7.1.1.1.2"
RU_SIGNATURE_256, RU_SIGNATURE_512 = "1.2.643.7.1.1.3.2", "1.2.643.7.1.1.3.3"
RU_STREEBOG_256, RU_STREEBOG_512 = "1.2.643.7.1.1.2.2", "1.2.643.7.1.1.2.3"


@dataclass(frozen=True, slots=True)
class GostAlgorithm:
    """A GOST signature algorithm DocFlow verifies: its names in reports, its digest, its byte order.

    ``kazakh``: NCA RK's signature value is ``r || s``, each half little-endian; RFC 9215's
    (Russian, OpenSSL's) is ``s || r`` big-endian, the same bytes reversed as a whole.
    """

    name: str
    digest_name: str
    digest_oid: str
    digest_bits: Literal[256, 512]
    kazakh: bool


KZ_2015_512 = GostAlgorithm("gost34.10-2015-512", "streebog512", STREEBOG_512, 512, kazakh=True)
RU_2012_256 = GostAlgorithm("gostr34.10-2012-256", "streebog256", RU_STREEBOG_256, 256, kazakh=False)
RU_2012_512 = GostAlgorithm("gostr34.10-2012-512", "streebog512", RU_STREEBOG_512, 512, kazakh=False)
# A SignerInfo names the signature algorithm, or (as OpenSSL writes it) the key algorithm.
GOST_ALGORITHMS = {SIGNATURE_2015_512: KZ_2015_512, KEY_2015_512: KZ_2015_512,
                   RU_SIGNATURE_256: RU_2012_256, RU_KEY_256: RU_2012_256,
                   RU_SIGNATURE_512: RU_2012_512, RU_KEY_512: RU_2012_512}
# Public key algorithms of Kazakh and Russian GOST certificates.
GOST_KEYS = frozenset({KEY_2015_512, "1.2.398.3.10.1.1.1.1", "1.2.643.7.1.1.1.1", "1.2.643.7.1.1.1.2",
                       "1.2.643.2.2.19"})
DOTTED = re.compile(r"^\d+(\.\d+)+$")

# Algorithms users meet in Kazakhstan and Russia that DocFlow does not verify yet: named in the answer.
UNSUPPORTED = {
    "1.2.398.3.10.1.1.1.1": "Kazakh GOST 34.310-2004",
    "1.2.398.3.10.1.1.1.2": "Kazakh GOST 34.310-2004",
    "1.2.398.3.10.1.3.1": "Kazakh GOST 34.311-95",
    "1.2.643.2.2.3": "Russian GOST R 34.10-2001",
    "1.2.643.2.2.19": "Russian GOST R 34.10-2001",
    "1.2.643.2.2.9": "Russian GOST R 34.11-94",
}


def is_kz_gost(signature_algorithm: str) -> bool:
    """Whether a SignerInfo's signature algorithm is Kazakh GOST 34.10-2015 (512)."""
    return signature_algorithm in SIGNATURE_ALGORITHMS


def gost_algorithm(signature_algorithm: str) -> GostAlgorithm | None:
    """The GOST algorithm DocFlow verifies under this SignerInfo or certificate signature OID, if any."""
    return GOST_ALGORITHMS.get(signature_algorithm)


def is_gost(signature_algorithm: str) -> bool:
    """Whether DocFlow verifies this signature algorithm with its GOST code (Kazakh 2015, Russian 2012)."""
    return signature_algorithm in GOST_ALGORITHMS


def refuse_unsupported(signature_algorithm: str, digest_algorithm: str) -> None:
    """422 naming an algorithm DocFlow does not verify, before any verification is tried.

    Known GOST variants are named; any other algorithm the ASN.1 library does not know (it then
    reports the bare OID) is named by its OID.
    """
    for oid in (signature_algorithm, digest_algorithm):
        if oid in UNSUPPORTED:
            raise Unprocessable(f"The signature uses {UNSUPPORTED[oid]} ({oid}), which DocFlow does not verify "
                                f"yet; Kazakh GOST 34.10-2015 (512), Russian GOST R 34.10-2012, RSA and "
                                f"ECDSA are supported.",
                                slug="signature-algorithm")
    if DOTTED.match(signature_algorithm) and not is_gost(signature_algorithm):
        raise Unprocessable(f"The signature uses an unsupported signature algorithm ({signature_algorithm}).",
                            slug="signature-algorithm")
