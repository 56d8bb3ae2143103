"""Kazakh GOST 34.10-2015 (512) verification per CPU-second: through the signing API against the bare
in-process check, against the API's ECDSA P-256 rate; and Streebog-512 MB/s of a large file.

Starts the signing service alone (as ``bench.signing_verify`` does) with a trust store holding the
NCA RK test root and a generated ECDSA CA, then for a 64 KiB file signed with the test PKI's
individual key (``services/signing/tests/fixtures/kz-gost``):

* API: ``POST /api/v1/signatures/verify`` from ``--concurrency`` clients for ``--seconds``
  (JWT check, multipart parsing, SHA-256 and Streebog-512 of the file, the GOST signature and
  the chain to the root, JSON report); per CPU-second of the service process.
* Bare, in the same run and process: decoding the CMS, Streebog-512 of the file and
  ``kzgost.verify_signature`` with the same trust store, one thread, per CPU-second of it.
* ECDSA P-256 through the same API, for the GOST/ECDSA ratio.
* Streebog-512 of a ``--streebog-mb`` file (256 MB) read in 1 MB chunks, MB/s.

Targets (issue 12): API >= 0.5x bare per core; GOST-512 >= 0.2x the API's ECDSA P-256 rate;
Streebog-512 >= 50 MB/s.
Run: python -m bench.signing_gost [--seconds 15] [--concurrency 8] [--streebog-mb 256]
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import x509

from bench.signing_verify import through_api
from bench.stack import bench_stack, options, save
from docflow_dev.testing.issuer import LocalIssuer
from docflow_shared import streebog
from docflow_signing.crypto import kzgost, kzkeys
from docflow_signing.crypto.cms import decode_signature
from docflow_signing.crypto.devca import create_ca, issue_user_certificate, sign_detached
from docflow_signing.crypto.signing_times import SigningTimes
from docflow_signing.crypto.trust import TrustStore

FILE_BYTES = 64 * 1024
MB = 1024 * 1024
KZ = Path(__file__).resolve().parents[1] / "services" / "signing" / "tests" / "fixtures" / "kz-gost"


def gost_signature(content: bytes) -> bytes:
    """A detached CMS over ``content`` with the NCA RK test PKI's individual key, the intermediate embedded."""
    cert = x509.Certificate.load((KZ / "individual/valid/individual_valid.cert.der").read_bytes())
    key = kzkeys.read_pkcs12((KZ / "individual/valid/individual_valid.p12").read_bytes(), "Qwerty12", cert)
    intermediate = x509.Certificate.load((KZ / "nca_gost2022_test.cer").read_bytes())
    signature: bytes = kzkeys.sign_detached(content, key, chain=[intermediate])
    return signature


def bare_gost(trust_dir: Path, content: bytes, signature: bytes, seconds: float) -> dict[str, Any]:
    """Decode, Streebog-512 of the file and the GOST check with its chain, one thread, in this process."""
    trust = TrustStore(trust_dir)

    def once() -> None:
        decoded = decode_signature(signature)
        signer = decoded.signer_certificate()
        assert signer is not None
        times = SigningTimes(received_at=datetime.now(UTC), claimed=decoded.signing_time)
        report = kzgost.verify_signature(decoded, streebog.digest(content), trust, signer_cert=signer, times=times)
        assert report.intact and report.valid and report.trusted, report.problems

    for _ in range(5):
        once()
    count, started, cpu_started = 0, time.perf_counter(), time.thread_time()
    while time.perf_counter() - started < seconds:
        once()
        count += 1
    wall, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    return {"verifications": count, "per_s": round(count / wall, 1), "per_cpu_s": round(count / cpu, 1)}


def streebog_rate(size_mb: int) -> dict[str, Any]:
    """Streebog-512 of a ``size_mb`` file on disk, read in 1 MB chunks."""
    with tempfile.NamedTemporaryFile(prefix="docflow-bench-streebog-") as handle:
        block = os.urandom(MB)
        for _ in range(size_mb):
            handle.write(block)
        handle.flush()
        handle.seek(0)
        digest = streebog.new(512)
        started, cpu_started = time.perf_counter(), time.thread_time()
        while chunk := handle.read(MB):
            digest.update(chunk)
        digest.digest()
        wall, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    return {"file_mb": size_mb, "mb_s": round(size_mb / wall, 1), "mb_per_cpu_s": round(size_mb / cpu, 1)}


async def run(seconds: float, concurrency: int, streebog_mb: int) -> dict[str, Any]:
    if not streebog.available():
        raise SystemExit(f"Streebog needs OpenSSL's GOST provider: apt-get install {streebog.PACKAGE}")
    trust = Path(tempfile.mkdtemp(prefix="docflow-bench-trust-"))
    shutil.copy(KZ / "trust" / "root_test_gost_2022.cer", trust / "kz-root.cer")
    ca = create_ca("Bench CA", key_type="ec")
    ca.write(trust, "bench-ca")
    (trust / "bench-ca.key").unlink()
    content = os.urandom(FILE_BYTES)
    gost = gost_signature(content)
    ecdsa = sign_detached(content, issue_user_certificate(ca, "Bench ECDSA", key_type="ec"))
    figures: dict[str, Any] = {
        "benchmark": "signing_gost", "file_bytes": FILE_BYTES, "seconds": seconds, "concurrency": concurrency,
        "cpu_count": os.cpu_count(),
        "targets": {"api_vs_bare_per_core": 0.5, "gost_vs_ecdsa_api_per_core": 0.2, "streebog512_mb_s": 50},
    }
    bare = await asyncio.to_thread(bare_gost, trust, content, gost, seconds)
    issuer = LocalIssuer().start()
    try:
        with bench_stack(("signing",), JWKS_URL=issuer.jwks_url, SIGNING_TRUST_DIR=str(trust)) as stack:
            process = stack.processes["signing"].process
            assert process is not None
            url, token = stack.url("signing"), issuer.token("usr_bench")
            api = await through_api(url, token, content, gost, pid=process.pid, seconds=seconds,
                                    concurrency=concurrency)
            ecdsa_api = await through_api(url, token, content, ecdsa, pid=process.pid, seconds=seconds,
                                          concurrency=concurrency)
    finally:
        issuer.stop()
        shutil.rmtree(trust, ignore_errors=True)
    hashed = streebog_rate(streebog_mb)
    vs_bare = round(api["per_cpu_s"] / bare["per_cpu_s"], 3) if api["per_cpu_s"] else None
    vs_ecdsa = (round(api["per_cpu_s"] / ecdsa_api["per_cpu_s"], 3)
                if api["per_cpu_s"] and ecdsa_api["per_cpu_s"] else None)
    figures["results"] = {
        "gost512_api": api, "gost512_bare": bare, "ecdsa_p256_api": ecdsa_api, "streebog512": hashed,
        "api_vs_bare_per_core": vs_bare, "gost_vs_ecdsa_api_per_core": vs_ecdsa,
    }
    figures["met"] = {
        "api_vs_bare_per_core": bool(vs_bare and vs_bare >= 0.5),
        "gost_vs_ecdsa_api_per_core": bool(vs_ecdsa and vs_ecdsa >= 0.2),
        "streebog512_mb_s": hashed["mb_s"] >= 50,
    }
    return figures


def main() -> None:
    args = options(__doc__, seconds=15.0, concurrency=8, streebog_mb=256)
    save("signing_gost", asyncio.run(run(args.seconds, args.concurrency, args.streebog_mb)))


if __name__ == "__main__":
    main()
