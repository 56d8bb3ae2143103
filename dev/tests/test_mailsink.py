"""The local SMTP sink of ``make run``: keeps .eml files and lists them on a page."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import pytest

from docflow_dev.devstack import free_port, wait_port


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[tuple[int, int, Path]]:
    port, web_port, folder = free_port(), free_port(), tmp_path / "mail"
    process = subprocess.Popen([sys.executable, "-m", "docflow_dev.mailsink", "--port", str(port),
                                "--web-port", str(web_port), "--dir", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port("127.0.0.1", port, 15, process)
        wait_port("127.0.0.1", web_port, 15, process)
        yield port, web_port, folder
    finally:
        process.terminate()
        process.wait(10)


class TestSink:
    async def test_keeps_messages_and_shows_them(self, sink: tuple[int, int, Path]) -> None:
        port, web_port, folder = sink
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@docflow.test", "b@docflow.test", "Код <1>"
        message.set_content("plain body")
        message.add_alternative("<p>html body</p>", subtype="html")
        await aiosmtplib.send(message, hostname="127.0.0.1", port=port)

        [saved] = list(folder.glob("*.eml"))
        assert b"plain body" in saved.read_bytes()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_port}") as http:
            index = await http.get("/")
            assert index.status_code == 200 and "Код &lt;1&gt;" in index.text
            page = await http.get(f"/message/{saved.name}")
            assert "plain body" in page.text and "html body" in page.text
            raw = await http.get(f"/raw/{saved.name}")
            assert raw.content == saved.read_bytes()
            assert (await http.get("/message/..%2F..%2Fetc%2Fpasswd")).status_code == 404
