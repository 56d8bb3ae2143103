"""GOST R 34.10-2012 (Kazakhstan: GOST 34.10-2015) signatures on the 512-bit curve paramSetA.

No maintained package on PyPI implements this curve (the ``pygost`` name there is an empty
placeholder), and the arithmetic is short: a Weierstrass curve over a prime field, in Jacobian
coordinates with GMP's integers (gmpy2). Verifying one 512-bit signature is two scalar
multiplications done in one pass (Shamir's trick), a few milliseconds; the expensive part of
GOST, hashing files with Streebog, is left to OpenSSL (``streebog.py``).

Numbers cross this module's boundary as integers; the byte orders of the Kazakh encodings
(little-endian keys, digests and signatures) are handled in ``kzgost.py``.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass, replace

from gmpy2 import mpz  # type: ignore[import-untyped]

Point = tuple[int, int]
Jacobian = tuple[int, int, int]
INFINITY: Jacobian = (1, 1, 0)


@dataclass(frozen=True, slots=True)
class Curve:
    """Short Weierstrass curve y² = x³ + ax + b over GF(p), subgroup order q, base point (x, y)."""

    name: str
    p: int
    a: int
    b: int
    q: int
    x: int
    y: int

    @property
    def size(self) -> int:
        """Bytes of one coordinate, of one digest and of one half of a signature."""
        return (self.p.bit_length() + 7) // 8

    def contains(self, point: Point) -> bool:
        x, y = point
        return 0 <= x < self.p and 0 <= y < self.p and (y * y - x * x * x - self.a * x - self.b) % self.p == 0


# id-tc26-gost-3410-12-512-paramSetA (1.2.643.7.1.2.1.2.1), RFC 7836 appendix A.1.
TC26_512_A = Curve(
    name="id-tc26-gost-3410-12-512-paramSetA",
    p=2**512 - 569,
    a=2**512 - 572,
    b=int("E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265"
          "EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760", 16),
    q=int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
          "27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275", 16),
    x=3,
    y=int("7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921"
          "DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4", 16),
)


# RFC 4357 section 11.4: id-GostR3410-2001-CryptoPro-{A,B,C}-ParamSet (1.2.643.2.2.35.1-3), which
# GOST R 34.10-2012 (256) keys use too; XchA and XchB (1.2.643.2.2.36.0-1) are A and C.
CRYPTOPRO_A = Curve(
    name="id-GostR3410-2001-CryptoPro-A-ParamSet",
    p=2**256 - 617, a=2**256 - 620, b=166,
    q=int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893", 16),
    x=1, y=int("8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14", 16),
)
CRYPTOPRO_B = Curve(
    name="id-GostR3410-2001-CryptoPro-B-ParamSet",
    p=2**255 + 3225, a=2**255 + 3222, b=int("3E1AF419A269A5F866A7D3C25C3DF80AE979259373FF2B182F49D4CE7E1BBC8B", 16),
    q=int("800000000000000000000000000000015F700CFFF1A624E5E497161BCC8A198F", 16),
    x=1, y=int("3FA8124359F96680B83D1C3EB2C070E5C545C9858D03ECFB744BF8D717717EFC", 16),
)
CRYPTOPRO_C = Curve(
    name="id-GostR3410-2001-CryptoPro-C-ParamSet",
    p=int("9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B", 16),
    a=int("9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D7598", 16), b=32858,
    q=int("9B9F605F5A858107AB1EC85E6B41C8AA582CA3511EDDFB74F02F3A6598980BB9", 16),
    x=0, y=int("41ECE55743711A8C3CBF3783CD08C0EE4D4DC440D4641A8F366E550DFDB3BB67", 16),
)
# id-tc26-gost-3410-12-512-paramSetB (1.2.643.7.1.2.1.2.2), RFC 7836 appendix A.2.
TC26_512_B = Curve(
    name="id-tc26-gost-3410-12-512-paramSetB",
    p=2**511 + 111, a=2**511 + 108,
    b=int("687D1B459DC841457E3E06CF6F5E2517B97C7D614AF138BCBF85DC806C4B289F"
          "3E965D2DB1416D217F8B276FAD1AB69C50F78BEE1FA3106EFB8CCBC7C5140116", 16),
    q=int("8000000000000000000000000000000000000000000000000000000000000001"
          "49A1EC142565A545ACFDB77BD9D40CFA8B996712101BEA0EC6346C54374F25BD", 16),
    x=2, y=int("1A8F7EDA389B094C2C071E3647A8940F3C123B697578C213BE6DD9E6C8EC7335"
               "DCB228FD1EDF4A39152CBCAAF8C0398828041055F94CEEEC7E21340780FE41BD", 16),
)


def _double(curve: Curve, point: Jacobian) -> Jacobian:
    x, y, z = point
    if z == 0 or y == 0:
        return INFINITY
    p = curve.p
    yy = y * y % p
    s = 4 * x * yy % p
    zz = z * z % p
    # a = -3 (paramSetA and the CryptoPro curves): 3x² + az⁴ = 3(x - z²)(x + z²)
    m = 3 * (x - zz) * (x + zz) % p if curve.a == p - 3 else (3 * x * x + curve.a * zz * zz) % p
    x3 = (m * m - 2 * s) % p
    return x3, (m * (s - x3) - 8 * yy * yy) % p, 2 * y * z % p


def _add(curve: Curve, one: Jacobian, two: Jacobian) -> Jacobian:
    if one[2] == 0:
        return two
    if two[2] == 0:
        return one
    p = curve.p
    x1, y1, z1 = one
    x2, y2, z2 = two
    z1z1, z2z2 = z1 * z1 % p, z2 * z2 % p
    return _add_scaled(curve, one, x1 * z2z2 % p, y1 * z2 * z2z2 % p, x2 * z1z1 % p, y2 * z1 * z1z1 % p, z1 * z2)


def _add_affine(curve: Curve, one: Jacobian, two: Point) -> Jacobian:
    """``one`` + ``two`` where ``two`` is affine (z = 1): a few multiplications fewer than ``_add``."""
    if one[2] == 0:
        return two[0], two[1], 1
    p = curve.p
    x1, y1, z1 = one
    z1z1 = z1 * z1 % p
    return _add_scaled(curve, one, x1, y1, two[0] * z1z1 % p, two[1] * z1 * z1z1 % p, z1)


def _add_scaled(curve: Curve, one: Jacobian, u1: int, s1: int, u2: int, s2: int, z1z2: int) -> Jacobian:
    """The sum of two Jacobian points brought to one denominator: ``u`` = x·z², ``s`` = y·z³ with
    the other point's z; ``z1z2`` is the product of their z (the sum's z is h·z1z2)."""
    p = curve.p
    h, r = (u2 - u1) % p, (s2 - s1) % p
    if h == 0:
        return _double(curve, one) if r == 0 else INFINITY
    hh = h * h % p
    hhh = h * hh % p
    v = u1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    return x3, (r * (v - x3) - s1 * hhh) % p, h * z1z2 % p


def _multiply_both(curve: Curve, k1: int, one: Point, k2: int, two: Point) -> Jacobian:
    """k1·one + k2·two in one pass of doublings (Shamir's trick), adding one, two or their sum."""
    both = _affine(curve, _add_affine(curve, (one[0], one[1], 1), two))
    table: dict[int, Point | None] = {1: one, 2: two, 3: both}
    result = INFINITY
    for i in range(max(k1.bit_length(), k2.bit_length()) - 1, -1, -1):
        result = _double(curve, result)
        addend = table.get((k1 >> i) & 1 | ((k2 >> i) & 1) << 1)
        if addend is not None:  # None: no bit set, or one + two is the point at infinity
            result = _add_affine(curve, result, addend)
    return result


def _multiply(curve: Curve, k: int, point: Point) -> Jacobian:
    result = INFINITY
    addend: Jacobian = (point[0], point[1], 1)
    while k:
        if k & 1:
            result = _add(curve, result, addend)
        addend = _double(curve, addend)
        k >>= 1
    return result


def _affine(curve: Curve, point: Jacobian) -> Point | None:
    x, y, z = point
    if z == 0:
        return None
    zi = pow(z, -1, curve.p)
    zi2 = zi * zi % curve.p
    return x * zi2 % curve.p, y * zi2 * zi % curve.p


@functools.cache
def _fast(curve: Curve) -> Curve:
    """``curve`` with GMP integers (gmpy2): 512-bit modular products run ~2.7x faster than Python's."""
    return replace(curve, p=mpz(curve.p), a=mpz(curve.a), b=mpz(curve.b), q=mpz(curve.q), x=mpz(curve.x),
                   y=mpz(curve.y))


def _point(point: Point) -> Point:
    return mpz(point[0]), mpz(point[1])


def _e(curve: Curve, digest: int) -> int:
    """The digest as the standard's ``e``: reduced mod q, 1 in place of 0."""
    return digest % curve.q or 1


def verify(curve: Curve, public_key: Point, digest: int, r: int, s: int) -> bool:
    """GOST R 34.10-2012 section 6.2: whether (r, s) signs ``digest`` (an integer) under ``public_key``."""
    q = curve.q
    if not (0 < r < q and 0 < s < q) or not curve.contains(public_key):
        return False
    fast = _fast(curve)
    v = pow(mpz(_e(curve, digest)), -1, fast.q)
    z1, z2 = s * v % fast.q, -r * v % fast.q
    c = _affine(fast, _multiply_both(fast, z1, (fast.x, fast.y), z2, _point(public_key)))
    return c is not None and bool(c[0] % q == r)


def public_key(curve: Curve, private_key: int) -> Point:
    """The public point of a private scalar."""
    fast = _fast(curve)
    point = _affine(fast, _multiply(fast, mpz(private_key), (fast.x, fast.y)))
    if point is None or not 0 < private_key < curve.q:
        raise ValueError("The private key is out of range.")
    return int(point[0]), int(point[1])


def sign(curve: Curve, private_key: int, digest: int) -> tuple[int, int]:
    """GOST R 34.10-2012 section 6.1: (r, s) over ``digest`` with a fresh random k."""
    q = curve.q
    e = _e(curve, digest)
    fast = _fast(curve)
    while True:
        k = secrets.randbelow(q - 1) + 1
        c = _affine(fast, _multiply(fast, mpz(k), (fast.x, fast.y)))
        r = int(c[0]) % q if c is not None else 0
        s = (r * private_key + k * e) % q
        if r and s:
            return r, s
