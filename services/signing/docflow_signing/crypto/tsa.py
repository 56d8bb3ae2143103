"""Archive timestamps: DocFlow asks a configured RFC 3161 TSA to timestamp every signature it accepts.

The token covers the SHA-256 of the stored CMS (the ``.p7s`` as uploaded), so it proves that this
exact signature existed when DocFlow accepted it, whatever later happens to the signer's
certificate or to DocFlow's own clock (docs/architecture.md, "Timestamps"). The request, its nonce
and the response status are pyHanko's (``HTTPTimeStamper``); the token is then verified against
the TSA trust store like a signature timestamp. A TSA that is down or answers a token that does
not verify does not refuse the signature: the record says why it has no archive timestamp.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import cms
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus

from docflow_shared.mongo import utc_now
from docflow_signing.crypto.trust import TrustStore, release

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ArchiveTimestamp:
    """A TSA's token over a stored signature, or why there is none."""

    requested_at: datetime
    token: bytes | None = None
    time: datetime | None = None
    tsa: str | None = None
    imprint_sha256: str | None = None
    problem: str | None = None

    def to_document(self) -> dict[str, Any]:
        return {"requested_at": self.requested_at, "token": self.token, "time": self.time, "tsa": self.tsa,
                "imprint_sha256": self.imprint_sha256, "problem": self.problem}


async def verify_token(token: cms.ContentInfo, data: bytes, trust: TrustStore,
                       moment: datetime) -> tuple[datetime | None, str | None, str | None]:
    """The time ``token`` proves for ``data``, its TSA's name, and why it does not count (else None)."""
    context = trust.context(moment)
    try:
        status = TimestampSignatureStatus(**await validate_tst_signed_data(
            token["content"], context, lambda algorithm: hashlib.new(algorithm, data).digest()))
    except Exception as exc:  # a broken token from the TSA is reported, never a 500
        logger.info("archive timestamp token not verifiable: %r", exc)
        return None, None, "The timestamp token cannot be verified."
    finally:
        await release(context)
    tsa = status.signing_cert.subject.human_friendly if status.signing_cert is not None else None
    if not status.valid:
        return None, tsa, "The timestamp token's signature is not valid."
    if not status.intact:
        return None, tsa, "The timestamp token was not made over this signature."
    if not status.trusted:
        return None, tsa, "The timestamp authority is not trusted."
    return status.timestamp, tsa, None


class ArchiveStamper:
    """Requests and verifies archive timestamps from one TSA."""

    def __init__(self, url: str, trust: TrustStore, *, timeout: float = 10.0) -> None:
        self.url = url
        self.trust = trust
        self.timeout = timeout

    async def stamp(self, data: bytes) -> ArchiveTimestamp:
        """A verified token over SHA-256(``data``), or a record of why there is none."""
        requested_at = utc_now()
        imprint = hashlib.sha256(data).digest()
        stamper = HTTPTimeStamper(self.url, timeout=self.timeout)
        try:
            token = await stamper.async_timestamp(imprint, "sha256")
        except Exception as exc:  # TSA down, refusing or answering garbage: the signature still stands
            logger.warning("archive timestamp from %s failed: %r", self.url, exc)
            return ArchiveTimestamp(requested_at, imprint_sha256=imprint.hex(),
                                    problem=f"The timestamp authority gave no token: {exc}.")
        time, tsa, problem = await verify_token(token, data, self.trust, utc_now())
        return ArchiveTimestamp(requested_at, token=bytes(token.dump()), time=time, tsa=tsa,
                                imprint_sha256=imprint.hex(), problem=problem)
