"""When a signature was made: the signer's claimed time, and the time a trusted RFC 3161 token proves.

The certificate is judged at the time DocFlow received the signature, or at the earlier time a
trusted RFC 3161 timestamp token in the signature proves; the signer's own ``signingTime`` is
only reported, as claimed (docs/architecture.md, "When a signature was made").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from asn1crypto import cms
from pyhanko.sign.validation.generic_cms import (
    extract_tst_data_iter,
    message_imprint_checker,
    validate_tst_signed_data,
)
from pyhanko.sign.validation.status import TimestampSignatureStatus

from docflow_shared.errors import Unprocessable
from docflow_signing.crypto.cms import DecodedSignature
from docflow_signing.crypto.trust import TrustStore, release

logger = logging.getLogger(__name__)

TimeBasis = Literal["received", "timestamp"]


@dataclass(frozen=True, slots=True)
class SigningTimes:
    """The times a signature carries, and the one its certificate is judged at.

    ``claimed`` is the signer's ``signingTime``: anyone can write any date there, so it decides
    nothing. ``timestamp`` is set only when a trusted timestamp token proves it.
    """

    received_at: datetime
    claimed: datetime | None = None
    timestamp: datetime | None = None
    timestamp_problem: str | None = None

    @property
    def moment(self) -> datetime:
        """When validity, trust and revocation are judged: the proven time, else receipt."""
        return self.timestamp if self.timestamp is not None else self.received_at

    @property
    def basis(self) -> TimeBasis:
        return "timestamp" if self.timestamp is not None else "received"


async def signing_times(decoded: DecodedSignature, trust: TrustStore, *, received_at: datetime,
                        skew_seconds: int) -> SigningTimes:
    """The signature's times as received at ``received_at``; 422 if its claimed time is in the future."""
    claimed = decoded.signing_time
    if claimed is not None and claimed > received_at + timedelta(seconds=skew_seconds):
        raise Unprocessable("The signing time lies in the future.", slug="signature-time")
    proven, problem = await proven_time(decoded, trust, received_at=received_at, skew_seconds=skew_seconds)
    return SigningTimes(received_at=received_at, claimed=claimed, timestamp=proven, timestamp_problem=problem)


async def proven_time(decoded: DecodedSignature, trust: TrustStore, *, received_at: datetime,
                      skew_seconds: int) -> tuple[datetime | None, str | None]:
    """The time a trusted RFC 3161 signature timestamp proves, else None and why a token did not count.

    A token counts when its own signature verifies, its messageImprint is the hash of this
    SignerInfo's signature value (so it was made over this very signature), and its TSA
    certificate, with the timeStamping extended key usage, chains to the trust store at
    ``received_at``. A token that does not count is ignored: the signature is then judged at
    ``received_at``, the strictest time there is.
    """
    try:
        tokens = list(extract_tst_data_iter(decoded.signer_info, signed=False))
    except Exception as exc:  # malformed unsigned attributes are the sender's fault
        logger.info("timestamp token unreadable: %r", exc)
        return None, "The timestamp token cannot be read."
    problem: str | None = None
    for token in tokens:
        found, problem = await _token_time(decoded, token, trust, received_at=received_at)
        if found is None:
            continue
        if found > received_at + timedelta(seconds=skew_seconds):
            problem = "The timestamp lies in the future."
            continue
        return min(found, received_at), None
    return None, problem


async def _token_time(decoded: DecodedSignature, token: cms.SignedData, trust: TrustStore, *,
                      received_at: datetime) -> tuple[datetime | None, str | None]:
    context = trust.context(received_at)
    try:
        status = TimestampSignatureStatus(**await validate_tst_signed_data(
            token, context, message_imprint_checker(decoded.signer_info),
        ))
    except Exception as exc:  # any failure on an untrusted token is the sender's fault, not a 500
        logger.info("timestamp token not verifiable: %r", exc)
        return None, "The timestamp token cannot be verified."
    finally:
        await release(context)
    if not status.valid:
        return None, "The timestamp token's signature is not valid."
    if not status.intact:
        return None, "The timestamp token was not made over this signature."
    if not status.trusted:
        return None, "The timestamp authority is not trusted."
    return status.timestamp, None


