"""Whether a signer certificate or a CA above it was revoked, and when: OCSP from its AIA, else the CRL
of its distribution point (with its delta CRL, if one is named).

The status is fetched when DocFlow receives a signature and judged against the time the signature
is known to exist by (receipt, or an earlier trusted timestamp): a certificate revoked before that
time refuses the signature, one revoked later is reported with both times (docs/architecture.md,
"Revocation"). The answer that decided (the OCSP response, or the CRL's number and digest) is kept
with the signature so that it can be checked again without the network; ``revocation_evidence``
reads and checks that evidence.

pyhanko-certvalidator's own fetching is not used: it cannot read Kazakh GOST certificates or verify
a GOST-signed CRL, it folds "revoked after the signing time" into a plain pass, and it keeps neither
the revocation time nor the evidence in a form to store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import aiohttp
from asn1crypto import x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from docflow_shared.errors import Unprocessable
from docflow_signing.crypto.revocation_evidence import (
    Crl,
    RevocationError,
    RevocationStatus,
    check_delta,
    crl_status,
    find_issuer,
    has_gost_key,
    is_gost,
    load_crl,
    ocsp_status,
    recheck,
    verify_ocsp,
)
from docflow_signing.crypto.verification import VerificationReport

__all__ = ["RevocationChecker", "RevocationError", "RevocationPolicy", "RevocationStatus", "enforce", "judge",
           "load_crl", "recheck"]

logger = logging.getLogger(__name__)

MAX_FETCH_BYTES = 64 * 1024 * 1024


def _urls(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """The certificate's OCSP (AIA) and CRL (distribution point) URLs."""
    ocsp_urls = [u for u in cert.ocsp_urls if u.lower().startswith(("http://", "https://"))]
    crl_urls = [dp.url for dp in cert.crl_distribution_points if dp.url]
    return ocsp_urls, crl_urls


@dataclass(slots=True)
class RevocationChecker:
    """Fetches and checks revocation information, with a URL map and a CRL cache (until ``nextUpdate``)."""

    url_map: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    _crls: dict[str, Crl] = field(default_factory=dict)
    _fetching: dict[str, asyncio.Lock] = field(default_factory=dict)

    def resolve(self, url: str) -> str:
        """``url`` with the longest matching prefix of the URL map replaced."""
        prefix = max((p for p in self.url_map if url.startswith(p)), key=len, default=None)
        return url if prefix is None else self.url_map[prefix] + url[len(prefix):]

    async def check(self, cert: x509.Certificate, issuer: x509.Certificate | None, *,
                    now: datetime | None = None) -> RevocationStatus:
        """The certificate's status now: OCSP first (not for GOST), then CRLs; ``unknown`` when none answers."""
        now = now or datetime.now(UTC)
        if issuer is None:
            return RevocationStatus("unknown", now, problems=("The certificate's issuer is not known, so its "
                                                               "revocation cannot be checked.",))
        ocsp_urls, crl_urls = _urls(cert)
        problems: list[str] = []
        undecided: RevocationStatus | None = None
        sources = [] if is_gost(cert) or has_gost_key(issuer) else [("OCSP", url, self._ocsp) for url in ocsp_urls]
        sources += [("CRL", url, self._crl) for url in crl_urls]
        for kind, url, fetch in sources:
            try:
                status = await fetch(url, cert, issuer, now)
            except (RevocationError, aiohttp.ClientError, OSError, TimeoutError) as exc:
                problems.append(f"{kind} {url}: {_why(exc)}")
                continue
            except Exception as exc:  # whatever an outside answer holds, it makes the status unknown, never a 500
                logger.info("revocation source %s unusable: %r", url, exc)
                problems.append(f"{kind} {url}: the answer cannot be used")
                continue
            if status.state != "unknown":
                return status
            problems.extend(f"{kind} {url}: {p}" for p in status.problems)
            undecided = undecided or status
        if not ocsp_urls and not crl_urls:
            problems.append("The certificate names no OCSP responder and no CRL distribution point.")
        if undecided is not None:  # a source that answered "unknown" (and its evidence) is better than none
            return dataclasses.replace(undecided, problems=tuple(problems))
        return RevocationStatus("unknown", now, problems=tuple(problems))

    async def _ocsp(self, url: str, cert: x509.Certificate, issuer: x509.Certificate,
                    now: datetime) -> RevocationStatus:
        nonce = secrets.token_bytes(16)
        request = (ocsp.OCSPRequestBuilder()
                   .add_certificate(cx509.load_der_x509_certificate(cert.dump()),
                                    cx509.load_der_x509_certificate(issuer.dump()), hashes.SHA1())
                   .add_extension(cx509.OCSPNonce(nonce), critical=False).build())
        der = await self._post(self.resolve(url), request.public_bytes(serialization.Encoding.DER))
        response = verify_ocsp(der, cert, issuer, nonce=nonce, now=now)
        return ocsp_status(response, der, url, now)

    async def _crl(self, url: str, cert: x509.Certificate, issuer: x509.Certificate,
                   now: datetime) -> RevocationStatus:
        """The complete CRL at ``url``, updated by a delta CRL where the certificate or the CRL names one
        (freshestCRL). A delta that cannot be had or applied is reported, and the complete CRL decides:
        it is authoritative until its nextUpdate."""
        crl = await self._load_crl(url, issuer, now)
        if crl.delta_base is not None:
            raise RevocationError("The distribution point serves a delta CRL, not a complete one.")
        problems: list[str] = []
        for delta_url in [d.url for d in cert.delta_crl_distribution_points if d.url] or list(crl.freshest):
            try:
                delta = await self._load_crl(delta_url, issuer, now)
                check_delta(crl, delta, now)
            except (RevocationError, aiohttp.ClientError, OSError, TimeoutError) as exc:
                problems.append(f"Delta CRL {delta_url}: {_why(exc)}; the complete CRL decides.")
                continue
            return crl_status(crl, cert, url, now, delta=delta, delta_url=delta_url)
        status = crl_status(crl, cert, url, now)
        return dataclasses.replace(status, problems=(*status.problems, *problems))

    async def _load_crl(self, url: str, issuer: x509.Certificate, now: datetime) -> Crl:
        target = self.resolve(url)
        async with self._fetching.setdefault(target, asyncio.Lock()):  # one download for concurrent signatures
            crl = self._crls.get(target)
            if crl is None or crl.next_update is None or crl.next_update <= now or crl.issuer != issuer.dump():
                crl = await asyncio.to_thread(load_crl, await self._get(target), issuer)  # GOST check: ms
                if crl.next_update is not None and crl.next_update > now:
                    self._crls[target] = crl
        return crl

    async def _get(self, target: str) -> bytes:
        if not target.lower().startswith(("http://", "https://")):
            path = Path(urlsplit(target).path if target.startswith("file://") else target)
            return await asyncio.to_thread(_read_limited, path)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session, \
                session.get(target, raise_for_status=True) as response:
            return await _read_body(response)

    async def _post(self, target: str, body: bytes) -> bytes:
        if not target.lower().startswith(("http://", "https://")):
            raise RevocationError("An OCSP responder must be an http(s) URL.")
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session, \
                session.post(target, data=body, headers={"Content-Type": "application/ocsp-request"},
                             raise_for_status=True) as response:
            return await _read_body(response)


def _read_limited(path: Path) -> bytes:
    if os.path.getsize(path) > MAX_FETCH_BYTES:
        raise RevocationError(f"The file is larger than {MAX_FETCH_BYTES} bytes.")
    return path.read_bytes()


async def _read_body(response: aiohttp.ClientResponse) -> bytes:
    body = await response.content.read(MAX_FETCH_BYTES + 1)
    if len(body) > MAX_FETCH_BYTES:
        raise RevocationError(f"The answer is larger than {MAX_FETCH_BYTES} bytes.")
    return body


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True, slots=True)
class Judgement:
    """What a revocation status means for a signature known to exist at ``moment``."""

    refused: bool
    problem: str | None
    slug: str | None = None


def judge(status: RevocationStatus, moment: datetime, *, unknown: Literal["accept", "refuse"],
          what: str = "The signer certificate") -> Judgement:
    """Revoked before ``moment``: refused. Revoked after: accepted, both times said. Unknown: per policy.
    ``what`` names the certificate (the signer's, or an issuing CA's on its path)."""
    if status.state == "revoked":
        if status.revoked_at is None or status.revoked_at <= moment:
            when = "at an unstated time" if status.revoked_at is None else f"at {_when(status.revoked_at)}"
            return Judgement(True, f"{what} was revoked {when}, before the signature is known to "
                                   f"exist ({_when(moment)}).", "certificate-revoked")
        return Judgement(False, f"{what} was revoked at {_when(status.revoked_at)}, after the "
                                f"signing time ({_when(moment)}); the signature was made while it was valid.")
    if status.state == "unknown":
        of = "" if what == "The signer certificate" else f" of {what[0].lower()}{what[1:]}"
        detail = f"Revocation unknown{of}: " + ("; ".join(status.problems) or "no source answered") + "."
        return Judgement(unknown == "refuse", detail, "revocation-unknown")
    return Judgement(False, None)


def enforce(judgement: Judgement) -> None:
    """422 for a refused judgement (``certificate-revoked`` or ``revocation-unknown``)."""
    if judgement.refused:
        raise Unprocessable(judgement.problem, slug=judgement.slug)


@dataclass(slots=True)
class RevocationPolicy:
    """The checker and what an unknown status means; applies both to a verification report."""

    checker: RevocationChecker
    unknown: Literal["accept", "refuse"] = "accept"

    async def apply(self, report: VerificationReport, signer_cert: x509.Certificate,
                    pool: Iterable[x509.Certificate], moment: datetime, *, refuse: bool) -> RevocationStatus:
        """Check ``signer_cert`` now and judge it at ``moment``; the report gets the status and any problem.

        With ``refuse`` (a signature being accepted) a refused judgement is 422; otherwise (a report
        only) the signature is marked untrusted.
        """
        pool = list(pool)
        issuer = await asyncio.to_thread(find_issuer, signer_cert, pool)  # GOST curve checks take ms
        status = await self.checker.check(signer_cert, issuer)
        judgements = [judge(status, moment, unknown=self.unknown)]
        report.revocation = status.to_document()
        cas: list[dict[str, object]] = []
        report.revocation["ca_certificates"] = cas
        for ca, ca_issuer in await asyncio.to_thread(ca_path, issuer, pool):
            ca_status = await self.checker.check(ca, ca_issuer)
            subject = ca.subject.human_friendly
            cas.append({"subject": subject, **ca_status.to_document()})
            judgements.append(judge(ca_status, moment, unknown=self.unknown,
                                    what=f"The issuing CA certificate ({subject})"))
        report.problems.extend(j.problem for j in judgements if j.problem)
        refusing = [j for j in judgements if j.refused]
        if not refusing:
            return status
        judgement = next((j for j in refusing if j.slug == "certificate-revoked"), refusing[0])
        if refuse:
            enforce(judgement)
        report.trusted = False
        report.chain = []
        report.trust_indication = "REVOKED" if judgement.slug == "certificate-revoked" else "TRY_LATER"
        return status


MAX_CA_PATH = 8


def ca_path(issuer: x509.Certificate | None,
            pool: list[x509.Certificate]) -> list[tuple[x509.Certificate, x509.Certificate | None]]:
    """The issuing CA certificates above a signer certificate whose revocation is checked, each with its
    own issuer: every CA up to, not including, a self-issued one (a root is trusted as configured, and
    nothing above it could revoke it). A CA whose issuer is not in ``pool`` ends the path, with None."""
    path: list[tuple[x509.Certificate, x509.Certificate | None]] = []
    seen: set[bytes] = set()
    cert = issuer
    while cert is not None and not cert.self_issued and len(path) < MAX_CA_PATH:
        if cert.sha256 in seen:
            break
        seen.add(cert.sha256)
        parent = find_issuer(cert, pool)
        path.append((cert, parent))
        cert = parent
    return path
