"""Whose signature it is, attacked through the gateway: a certificate verifies a signature only as
the registered certificate of the account that proved it holds the key.

An attacker here has an account of their own, a certificate of their own and everything public
about the victim: the victim's certificate and any `.p7s` the victim ever made.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from docflow_auth.security.identifiers import iin_check_digit
from docflow_dev.testing.asserts import assert_problem, problem_is
from docflow_dev.testing.mail import is_to, verification_code
from docflow_dev.testing.smtp import SmtpSink
from docflow_signing.crypto.devca import (
    Issued,
    create_ca,
    issue_user_certificate,
    key_proof,
    sign_detached,
    twin,
    with_embedded,
)

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"


@pytest.fixture(scope="module")
def ca(platform_env: dict[str, str]) -> Issued:
    """A CA the stack's signing service trusts (its default trust directory)."""
    authority = create_ca("Binding Test CA")
    trust = Path(platform_env["DATA_DIR"]) / "signing" / "trust"
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "binding-ca.pem").write_bytes(authority.cert_pem)
    return authority


def new_iin() -> str:
    """A fresh IIN with a valid control digit."""
    while True:
        birth = f"{random.randint(50, 99)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
        first = f"{birth}3{random.randint(0, 9999):04d}"
        digit = iin_check_digit(first)
        if digit is not None:
            return first + str(digit)


async def account(client: httpx.AsyncClient, smtp_sink: SmtpSink, name: str,
                  iin: str | None = None) -> dict[str, Any]:
    """A verified, signed-in account through the gateway."""
    email = f"{name.lower()}.{uuid.uuid4().hex[:8]}@example.kz"
    body: dict[str, Any] = {"email": email, "password": PASSWORD, "full_name": name, "locale": "en"}
    if iin:
        body["iin"] = iin
    created = await client.post(f"{API}/auth/signup", json=body)
    assert created.status_code == 201, created.text
    code = verification_code(smtp_sink.wait_for(lambda m: is_to(m, email) and "code" in str(m["Subject"]), 30))
    assert (await client.post(f"{API}/auth/email/verify", json={"email": email, "code": code})).status_code == 200
    login = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"id": created.json()["id"], "email": email, "iin": iin,
            "headers": {"Authorization": f"Bearer {login.json()['access_token']}"}}


async def attempt_until(attempt: Callable[[], Awaitable[httpx.Response]], ready: Callable[[httpx.Response], bool],
                        timeout: float = 20.0) -> httpx.Response:
    """``attempt`` until ``ready`` (signing learns of accounts, files and the trust store by itself);
    the last response after ``timeout``, for the caller's assertion to show."""
    deadline = time.monotonic() + timeout
    while True:
        response = await attempt()
        if ready(response) or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.3)


async def challenge(client: httpx.AsyncClient, person: dict[str, Any]) -> str:
    response = await client.post(f"{API}/certificates/challenges", headers=person["headers"])
    assert response.status_code == 201, response.text
    return response.json()["challenge"]  # type: ignore[no-any-return]


async def register(client: httpx.AsyncClient, person: dict[str, Any], cert: Issued,
                   prover: Issued | None = None, proof: bool = True) -> httpx.Response:
    """Upload ``cert``, proving possession with ``prover``'s key (the certificate's own by default)."""

    body = {"pem": cert.cert_pem.decode()}

    async def unproved() -> httpx.Response:
        return await client.post(f"{API}/certificates", json=body, headers=person["headers"])

    response = await attempt_until(unproved, lambda r: not problem_is(r, "certificate-untrusted"))  # trust re-read
    if not proof or not problem_is(response, "key-proof-missing"):
        return response  # refused for another reason, or (the hole this file guards) taken without a proof
    text = await challenge(client, person)
    headers = {**person["headers"], "DocFlow-Key-Challenge": text, "DocFlow-Key-Proof": key_proof(text, prover or cert)}
    return await client.post(f"{API}/certificates", json=body, headers=headers)


async def own_document(client: httpx.AsyncClient, person: dict[str, Any], content: bytes) -> tuple[str, str]:
    created = await client.post(f"{API}/documents", json={"title": "Loan agreement"}, headers=person["headers"])
    assert created.status_code == 201, created.text
    doc_id = created.json()["id"]
    upload = await client.post(f"{API}/documents/{doc_id}/files", headers=person["headers"],
                               files={"file": ("loan.pdf", content, "application/pdf")})
    assert upload.status_code == 201, upload.text
    return doc_id, upload.json()["id"]


async def sign(client: httpx.AsyncClient, person: dict[str, Any], doc_id: str, file_id: str,
               signature: bytes) -> httpx.Response:
    async def attempt() -> httpx.Response:
        return await client.post(f"{API}/documents/{doc_id}/files/{file_id}/signatures", headers=person["headers"],
                                 files={"signature": ("loan.p7s", signature, "application/pkcs7-signature")})

    return await attempt_until(attempt, lambda r: r.status_code != 404)  # until signing has seen the file


async def signatures_of(client: httpx.AsyncClient, person: dict[str, Any], doc_id: str) -> list[dict[str, Any]]:
    listed = await client.get(f"{API}/documents/{doc_id}/signatures", headers=person["headers"])
    assert listed.status_code == 200, listed.text
    return listed.json()["items"]  # type: ignore[no-any-return]


async def test_twin_certificate_attack_is_refused(client, smtp_sink, ca) -> None:
    victim, attacker = await account(client, smtp_sink, "Victim"), await account(client, smtp_sink, "Attacker")
    victims_cert = issue_user_certificate(ca, "Victim")
    assert (await register(client, victim, victims_cert)).status_code == 201
    forged = twin(victims_cert)
    # the victim's certificate is public; the attacker cannot prove they hold its key
    assert_problem(await register(client, attacker, victims_cert, proof=False), 422, "key-proof-missing")
    assert_problem(await register(client, attacker, victims_cert, prover=forged), 422, "key-proof-invalid")
    content = os.urandom(3_000)
    doc_id, file_id = await own_document(client, attacker, content)
    crafted = with_embedded(sign_detached(content, forged), [victims_cert, forged])
    assert_problem(await sign(client, attacker, doc_id, file_id, crafted), 422, "signer-ambiguous")
    assert await signatures_of(client, attacker, doc_id) == []


async def test_ambiguous_signer_identifier_is_422(client, smtp_sink, ca) -> None:
    signer = await account(client, smtp_sink, "Signer")
    mine = issue_user_certificate(ca, "Signer")
    assert (await register(client, signer, mine)).status_code == 201
    content = os.urandom(2_000)
    doc_id, file_id = await own_document(client, signer, content)
    for order in ([mine, twin(mine)], [twin(mine), mine]):
        crafted = with_embedded(sign_detached(content, mine), order)
        assert_problem(await sign(client, signer, doc_id, file_id, crafted), 422, "signer-ambiguous")
        checked = await client.post(f"{API}/signatures/verify", headers=signer["headers"], files={
            "file": ("loan.pdf", content, "application/pdf"), "signature": ("loan.p7s", crafted)})
        assert_problem(checked, 422, "signer-ambiguous")
    # the same signature with one copy of the certificate is fine
    assert (await sign(client, signer, doc_id, file_id, sign_detached(content, mine))).status_code == 201


async def test_someone_elses_p7s_is_not_the_callers(client, smtp_sink, ca) -> None:
    victim, attacker = await account(client, smtp_sink, "Victim"), await account(client, smtp_sink, "Attacker")
    victims_cert, attackers_cert = issue_user_certificate(ca, "Victim"), issue_user_certificate(ca, "Attacker")
    assert (await register(client, attacker, attackers_cert)).status_code == 201
    content = os.urandom(4_000)
    victims_p7s = sign_detached(content, victims_cert)  # made elsewhere over the same bytes
    doc_id, file_id = await own_document(client, attacker, content)
    assert_problem(await sign(client, attacker, doc_id, file_id, victims_p7s), 422, "signer-not-yours")
    # nor can the attacker make it theirs by registering the victim's certificate
    assert_problem(await register(client, attacker, victims_cert, proof=False), 422, "key-proof-missing")
    assert_problem(await register(client, attacker, victims_cert, prover=attackers_cert), 422, "key-proof-invalid")
    assert_problem(await sign(client, attacker, doc_id, file_id, victims_p7s), 422, "signer-not-yours")
    assert await signatures_of(client, attacker, doc_id) == []
    assert (await register(client, victim, victims_cert)).status_code == 201  # its holder still can


async def test_certificate_active_on_another_account_is_409(client, smtp_sink, ca) -> None:
    first, second = await account(client, smtp_sink, "First"), await account(client, smtp_sink, "Second")
    shared = issue_user_certificate(ca, "Holder")
    registered = await register(client, first, shared)
    assert registered.status_code == 201, registered.text
    assert_problem(await register(client, second, shared), 409, "certificate-taken")
    listed = await client.get(f"{API}/certificates", headers=second["headers"])
    assert listed.json()["items"] == []


async def test_certificate_with_another_accounts_iin_is_refused(client, smtp_sink, ca) -> None:
    victims_iin = new_iin()
    await account(client, smtp_sink, "Victim", iin=victims_iin)
    attacker = await account(client, smtp_sink, "Attacker", iin=new_iin())
    attacker_without_iin = await account(client, smtp_sink, "Anon")
    carrying_victims_iin = issue_user_certificate(ca, "Victim", iin=victims_iin)

    for person in (attacker, attacker_without_iin):
        response = await attempt_until(  # until signing's projection holds both accounts' IINs
            lambda person=person: register(client, person, carrying_victims_iin),
            lambda r: not problem_is(r, "certificate-iin-missing", "certificate-iin"))
        assert_problem(response, 422, "certificate-iin-foreign")


async def test_iin_certificate_on_an_account_without_iin_is_refused(client, smtp_sink, ca) -> None:
    person = await account(client, smtp_sink, "Newcomer")
    carrying_an_iin = issue_user_certificate(ca, "Newcomer", iin=new_iin())
    response = await register(client, person, carrying_an_iin)
    assert_problem(response, 422, "certificate-iin-missing")
    assert "profile" in response.json()["detail"]
    without_iin = issue_user_certificate(ca, "Newcomer")
    assert (await register(client, person, without_iin)).status_code == 201


async def test_proof_of_possession_missing_wrong_or_replayed(client, smtp_sink, ca) -> None:
    person, other = await account(client, smtp_sink, "Holder"), await account(client, smtp_sink, "Other")
    cert, stranger = issue_user_certificate(ca, "Holder", key_type="rsa"), issue_user_certificate(ca, "Stranger")
    body = {"pem": cert.cert_pem.decode()}
    assert_problem(await register(client, person, cert, proof=False), 422, "key-proof-missing")
    assert_problem(await register(client, person, cert, prover=stranger), 422, "key-proof-invalid")
    text = await challenge(client, person)
    wrong_text = {**person["headers"], "DocFlow-Key-Challenge": text,
                  "DocFlow-Key-Proof": key_proof(text + ".", cert)}
    assert_problem(await client.post(f"{API}/certificates", json=body, headers=wrong_text), 422, "key-proof-invalid")
    others = await challenge(client, other)
    foreign = {**person["headers"], "DocFlow-Key-Challenge": others, "DocFlow-Key-Proof": key_proof(others, cert)}
    assert_problem(await client.post(f"{API}/certificates", json=body, headers=foreign), 422, "key-challenge-invalid")
    text = await challenge(client, person)
    good = {**person["headers"], "DocFlow-Key-Challenge": text, "DocFlow-Key-Proof": key_proof(text, cert)}
    first = await client.post(f"{API}/certificates", json=body, headers=good)
    assert first.status_code == 201, first.text
    deleted = await client.delete(f"{API}/certificates/{first.json()['id']}", headers=person["headers"])
    assert deleted.status_code == 204
    assert_problem(await client.post(f"{API}/certificates", json=body, headers=good), 422, "key-challenge-invalid")
    # the same headers prove possession for a multipart upload: one rule for every upload form
    text = await challenge(client, person)
    proved = {**person["headers"], "DocFlow-Key-Challenge": text, "DocFlow-Key-Proof": key_proof(text, cert)}
    multipart = await client.post(f"{API}/certificates", headers=proved,
                                  files={"certificate": ("me.pem", cert.cert_pem, "application/x-pem-file")})
    assert multipart.status_code == 201, multipart.text
