"""DER bytes from what people upload: DER itself, a PEM block, or bare base64."""

from __future__ import annotations

import base64
import binascii
import re

from docflow_shared.errors import Unprocessable


def der_from_upload(data: bytes, pem_block: re.Pattern[bytes], *, unreadable: str, not_der: str,
                    slug: str) -> bytes:
    """DER bytes of one ASN.1 structure; 422 with ``unreadable`` / ``not_der`` otherwise."""
    if data.startswith(b"\x30"):
        return data
    data = data.strip()
    match = pem_block.search(data)
    body = match.group(1) if match else data
    try:
        der = base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Unprocessable(unreadable, slug=slug) from exc
    if not der.startswith(b"\x30"):
        raise Unprocessable(not_der, slug=slug)
    return der
