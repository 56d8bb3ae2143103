"""A whole installation backed up while it runs, wiped, and restored into an empty one.

DocFlow runs as ``make run`` runs it: the embedded MongoDB-wire server and the generated keys in
a data dir of its own (file master keys, JWT signing keys, the event-secret key), a trusted CA in
the signing trust store. It is filled through the gateway: accounts confirmed with the code the
SMTP sink received, a document with files, a share, a signature. Then ``python -m
docflow_shared.backup create --include-keys``, the data dir removed, ``restore`` into the empty
one, DocFlow started again: everyone logs in, every file comes back byte for byte, and the mail
count per person shows no e-mail lost or sent twice.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from docflow_dev.devstack import Stack, free_port
from docflow_dev.localservers import EmbeddedMongo
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.mail import is_to, verification_code
from docflow_dev.testing.plugin import free_ports
from docflow_dev.testing.smtp import SmtpSink

pytestmark = pytest.mark.skipif(importlib.util.find_spec("docflow_signing") is None,
                                reason="the backup test signs a file: it needs every DocFlow service installed")

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"
PASSPHRASE = "correct horse battery staple"


class Installation:
    """DocFlow on a data dir: the embedded database there, every service, the run's broker and SMTP sink."""

    def __init__(self, env: dict[str, str], data_dir: Path, logs: Path) -> None:
        self.env, self.data_dir, self.logs = env, data_dir, logs
        self.mongo: EmbeddedMongo | None = None
        self.stack: Stack | None = None

    def start(self) -> str:
        self.mongo = EmbeddedMongo(self.data_dir / "mongo", log_path=self.data_dir / "mongo.log").start()
        env = {**self.env, "MONGODB_URL": self.mongo.url, "DATA_DIR": str(self.data_dir)}
        self.stack = Stack(env=env, ports=free_ports(), log_dir=self.logs).start()
        url = self.stack.url("gateway")
        deadline = time.monotonic() + 60
        while httpx.get(f"{url}/ready", timeout=5).status_code != 200:  # every service has its database
            assert time.monotonic() < deadline, "DocFlow did not get ready within 60 s"
            time.sleep(0.3)
        return url

    def stop(self) -> None:
        if self.stack is not None:
            self.stack.stop()
        if self.mongo is not None:
            self.mongo.stop()
        self.stack = self.mongo = None

    def backup(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The backup command as an operator runs it: no MONGODB_URL, only the data dir."""
        env = {k: v for k, v in self.env.items() if k != "MONGODB_URL"}
        env.update({"DATA_DIR": str(self.data_dir), "BACKUP_PASSPHRASE": PASSPHRASE})
        return subprocess.run([sys.executable, "-m", "docflow_shared.backup", *args], env=env,
                              capture_output=True, text=True, timeout=300)


@pytest.fixture
def installation(platform_env: dict[str, str], tmp_path: Path) -> Iterator[Installation]:
    """A broker namespace of its own; no EVENT_SECRET_KEYS, so the key is generated in the data dir."""
    env = {k: v for k, v in platform_env.items() if k not in ("MONGODB_URL", "DATA_DIR", "EVENT_SECRET_KEYS")}
    env.update({"MONGODB_DB_PREFIX": "", "BROKER_NAMESPACE": f"{platform_env['BROKER_NAMESPACE']}bk{os.getpid()}.",
                "LOG_JSON": "false"})
    (tmp_path / "logs").mkdir()
    running = Installation(env, tmp_path / "data", tmp_path / "logs")
    yield running
    running.stop()


async def sign_up(http: httpx.AsyncClient, smtp_sink: SmtpSink, name: str) -> dict[str, Any]:
    email = f"{name.lower()}.{uuid.uuid4().hex[:8]}@example.kz"
    created = await http.post(f"{API}/auth/signup", json={
        "email": email, "password": PASSWORD, "full_name": name, "locale": "en"})
    assert created.status_code == 201, created.text
    code = verification_code(smtp_sink.wait_for(lambda m: is_to(m, email) and "code" in str(m["Subject"]), 30))
    verified = await http.post(f"{API}/auth/email/verify", json={"email": email, "code": code})
    assert verified.status_code == 200, verified.text
    return {"id": created.json()["id"], "email": email, "name": name, "headers": await log_in(http, email)}


async def log_in(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    login = await http.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def upload(http: httpx.AsyncClient, owner: dict[str, Any], doc_id: str, name: str, content: bytes) -> str:
    uploaded = await http.post(f"{API}/documents/{doc_id}/files", headers=owner["headers"],
                               files={"file": (name, content, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    return str(uploaded.json()["id"])


async def settled_mail(smtp_sink: SmtpSink, people: list[dict[str, Any]], quiet: float = 4.0) -> dict[str, int]:
    """E-mails per person, once nothing new has arrived for ``quiet`` seconds."""
    counts = {p["email"]: len(smtp_sink.to(p["email"])) for p in people}
    since = time.monotonic()
    while time.monotonic() - since < quiet:
        await asyncio.sleep(0.5)
        now = {p["email"]: len(smtp_sink.to(p["email"])) for p in people}
        if now != counts:
            counts, since = now, time.monotonic()
    return counts


async def fill(http: httpx.AsyncClient, smtp_sink: SmtpSink, issue: Callable[[str], Any]) -> dict[str, Any]:
    """Accounts, a document with two files (one of several encrypted chunks), a share and a signature."""
    from docflow_signing.crypto.devca import key_proof, sign_detached

    owner, colleague = await sign_up(http, smtp_sink, "Olga"), await sign_up(http, smtp_sink, "Aida")
    doc = await http.post(f"{API}/documents", headers=owner["headers"], json={"title": "Supply contract"})
    assert doc.status_code == 201, doc.text
    doc_id = doc.json()["id"]
    files = {"contract.pdf": os.urandom(20_000), "annex.pdf": os.urandom(2_500_000)}
    file_ids = {name: await upload(http, owner, doc_id, name, content) for name, content in files.items()}
    shared = await http.post(f"{API}/documents/{doc_id}/share", headers=owner["headers"],
                             json={"recipients": [colleague["email"]], "permission": "comment"})
    assert shared.status_code in (200, 201), shared.text
    smtp_sink.wait_for(lambda m: is_to(m, colleague["email"]) and "Supply contract" in str(m["Subject"]), 30)

    issued = issue(colleague["name"])
    challenge = await http.post(f"{API}/certificates/challenges", headers=colleague["headers"])
    assert challenge.status_code == 201, challenge.text
    text = challenge.json()["challenge"]
    proved = {**colleague["headers"], "DocFlow-Key-Challenge": text, "DocFlow-Key-Proof": key_proof(text, issued)}
    certificate = await http.post(f"{API}/certificates", headers=proved, json={"pem": issued.cert_pem.decode()})
    assert certificate.status_code == 201, certificate.text

    async def request_created() -> httpx.Response | None:
        response = await http.post(f"{API}/documents/{doc_id}/signature-requests", headers=owner["headers"],
                                   json={"signers": [colleague["email"]], "order": "parallel"})
        return response if response.status_code == 201 else None  # until signing has seen the events

    await eventually(request_created, timeout=30)

    async def signed() -> httpx.Response | None:
        response = await http.post(f"{API}/documents/{doc_id}/files/{file_ids['contract.pdf']}/signatures",
                                   headers=colleague["headers"],
                                   files={"signature": ("c.p7s", sign_detached(files["contract.pdf"], issued),
                                                        "application/pkcs7-signature")})
        return response if response.status_code == 201 else None  # until signing has routes' snapshot

    assert await eventually(signed, timeout=30) is not None

    async def marked_signed() -> bool:
        response = await http.get(f"{API}/documents/{doc_id}", headers=owner["headers"])
        return bool(response.json().get("status") == "signed")

    await eventually(marked_signed, timeout=30)
    return {"people": [owner, colleague], "doc_id": doc_id, "files": files, "file_ids": file_ids}


async def test_a_backup_restored_into_an_empty_installation_has_every_user_file_and_mail_once(
        installation: Installation, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    from docflow_signing.crypto.devca import create_ca, issue_user_certificate

    ca = create_ca("Backup Test CA", key_type="ec")
    ca.write(installation.data_dir / "signing" / "trust", "backup-ca")
    (installation.data_dir / "signing" / "trust" / "backup-ca.key").unlink()

    async with httpx.AsyncClient(base_url=installation.start(), timeout=30) as http:
        world = await fill(http, smtp_sink, lambda name: issue_user_certificate(ca, name))
        people = world["people"]
        mail_before = await settled_mail(smtp_sink, people)
        made = installation.backup("create", "--dir", str(tmp_path / "backups"), "--include-keys")  # while running
        assert made.returncode == 0, made.stderr
        assert installation.mongo is not None and installation.mongo.process is not None
        assert installation.mongo.process.poll() is None, "the backup stopped the running database"
    installation.stop()

    shutil.rmtree(installation.data_dir)
    restored = installation.backup("restore", str(tmp_path / "backups"))  # the newest backup in the directory
    assert restored.returncode == 0, restored.stderr
    assert "warning" not in restored.stderr, restored.stderr
    again = installation.backup("restore", str(tmp_path / "backups"))
    assert again.returncode == 1 and "already holds keys" in again.stderr, again.stderr

    async with httpx.AsyncClient(base_url=installation.start(), timeout=30) as http:
        owner, colleague = people
        for person in people:
            person["headers"] = await log_in(http, person["email"])
        for name, content in world["files"].items():
            url = f"{API}/documents/{world['doc_id']}/files/{world['file_ids'][name]}/content"
            for person in people:
                download = await http.get(url, headers=person["headers"])
                assert download.status_code == 200, download.text
                assert download.content == content, name
        signatures = await http.get(f"{API}/documents/{world['doc_id']}/signatures", headers=owner["headers"])
        assert signatures.status_code == 200 and len(signatures.json()["items"]) == 1, signatures.text

        assert await settled_mail(smtp_sink, people) == mail_before  # nothing replayed twice
        newcomer = await sign_up(http, smtp_sink, "Dana")  # events flow on after the restore
        doc = await http.post(f"{API}/documents", headers=newcomer["headers"], json={"title": "After restore"})
        shared = await http.post(f"{API}/documents/{doc.json()['id']}/share", headers=newcomer["headers"],
                                 json={"recipients": [colleague["email"]], "permission": "read"})
        assert shared.status_code in (200, 201), shared.text
        smtp_sink.wait_for(lambda m: is_to(m, colleague["email"]) and "After restore" in str(m["Subject"]), 30)
        after = await settled_mail(smtp_sink, people)
        assert after == {**mail_before, colleague["email"]: mail_before[colleague["email"]] + 1}


def mail_about(smtp_sink: SmtpSink, address: str, words: str) -> int:
    return sum(1 for m in smtp_sink.to(address) if words in str(m["Subject"]))


async def test_events_in_flight_during_a_backup_arrive_once_after_the_restore(
        installation: Installation, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    """Auth and documents lose the broker: a sign-up and a share wait in their outboxes, and backup A
    is taken. Documents gets the broker back, the share's e-mail goes out, and backup B is taken.
    The backup restored holds documents' database from A and the others from B: what a backup
    holds when a relay had published the share but not yet cleared it from its outbox (it died,
    or lost the database, in between) and mail had handled it. After the restore the share is
    published again and dropped as a duplicate; the sign-up, never published, sends its code now.
    Backup A also lifts its pause of the relays when done: the share goes out after it."""
    async with httpx.AsyncClient(base_url=installation.start(), timeout=30) as http:
        assert installation.stack is not None
        owner, colleague = await sign_up(http, smtp_sink, "Olga"), await sign_up(http, smtp_sink, "Aida")
        doc = await http.post(f"{API}/documents", headers=owner["headers"], json={"title": "In flight"})
        assert doc.status_code == 201, doc.text
        live = installation.stack.processes["documents"].env["AMQP_URL"]
        for service in ("auth", "documents"):
            installation.stack.restart(service, {"AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/"},
                                       ready=False)
        shared = await http.post(f"{API}/documents/{doc.json()['id']}/share", headers=owner["headers"],
                                 json={"recipients": [colleague["email"]], "permission": "read"})
        assert shared.status_code in (200, 201), shared.text
        newcomer = f"dana.{uuid.uuid4().hex[:8]}@example.kz"
        signed_up = await http.post(f"{API}/auth/signup", json={
            "email": newcomer, "password": PASSWORD, "full_name": "Dana", "locale": "en"})
        assert signed_up.status_code == 201, signed_up.text
        backup_a = installation.backup("create", "--dir", str(tmp_path / "a"), "--include-keys")
        assert backup_a.returncode == 0, backup_a.stderr

        installation.stack.restart("documents", {"AMQP_URL": live})
        smtp_sink.wait_for(lambda m: is_to(m, colleague["email"]) and "In flight" in str(m["Subject"]), 30)
        await settled_mail(smtp_sink, [colleague])
        backup_b = installation.backup("create", "--dir", str(tmp_path / "b"), "--include-keys")
        assert backup_b.returncode == 0, backup_b.stderr
    installation.stop()
    assert not smtp_sink.to(newcomer)
    restored = Path(backup_b.stdout.strip())
    shutil.rmtree(restored / "databases" / "documents")
    shutil.copytree(Path(backup_a.stdout.strip()) / "databases" / "documents", restored / "databases" / "documents")

    shutil.rmtree(installation.data_dir)
    done = installation.backup("restore", str(restored))
    assert done.returncode == 0, done.stderr
    async with httpx.AsyncClient(base_url=installation.start(), timeout=30) as http:
        code = verification_code(smtp_sink.wait_for(lambda m: is_to(m, newcomer) and "code" in str(m["Subject"]), 30))
        verified = await http.post(f"{API}/auth/email/verify", json={"email": newcomer, "code": code})
        assert verified.status_code == 200, verified.text
        await log_in(http, newcomer)
        await settled_mail(smtp_sink, [colleague, {"email": newcomer}])
    assert mail_about(smtp_sink, colleague["email"], "In flight") == 1
    assert mail_about(smtp_sink, newcomer, "code") == 1
