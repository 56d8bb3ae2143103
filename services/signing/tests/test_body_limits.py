"""Bodies sent straight to the signing service are bounded while they stream, chunked ones too."""

from __future__ import annotations

import httpx

from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.rawhttp import unfinished_chunked_post

SIGNING_ENV = {"SIGNING_MAX_VERIFY_FILE_BYTES": "200000", "SIGNING_MAX_SIGNATURE_BYTES": "100000"}
VERIFY_CAP = 200000 + 100000 + 64 * 1024
BOUNDARY = "b0undary"


async def test_a_chunked_multipart_upload_past_its_cap_is_413_before_its_end(
    base_url: str, local_issuer: LocalIssuer
) -> None:
    first = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
             "Content-Type: application/octet-stream\r\n\r\n").encode()
    answer = await unfinished_chunked_post(
        base_url, "/api/v1/signatures/verify",
        {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
         "Authorization": f"Bearer {local_issuer.token('u-big')}"},
        size=VERIFY_CAP + 1, first=first)
    assert answer.status == 413, answer
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_a_chunked_json_body_past_the_default_cap_is_413_before_its_end(
    base_url: str, local_issuer: LocalIssuer
) -> None:
    answer = await unfinished_chunked_post(
        base_url, "/api/v1/certificates",
        {"Content-Type": "application/json", "Authorization": f"Bearer {local_issuer.token('u-big')}"},
        size=1024 * 1024 + 1, first=b'{"pem": "')
    assert answer.status == 413, answer
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_the_413_reaches_a_client_that_is_still_sending(base_url: str, local_issuer: LocalIssuer) -> None:
    """Answering and closing with the client's bytes unread resets the connection, and the reset
    drops the answer on the client's side: the service reads on for a moment after answering."""
    for _ in range(5):
        answer = await unfinished_chunked_post(
            base_url, "/api/v1/certificates",
            {"Content-Type": "application/json", "Authorization": f"Bearer {local_issuer.token('u-big')}"},
            size=1024 * 1024 + 1, first=b'{"pem": "', then=512 * 1024)
        assert answer.status == 413, answer
        assert b"larger than" in answer.body


async def test_a_small_body_still_reaches_the_route(base_url: str, local_issuer: LocalIssuer) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post("/api/v1/signatures/verify", content=b"{}",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {local_issuer.token('u-big')}"})
    assert response.status_code == 415
