"""Local revocation and time-stamping servers for tests and development, built on the ``openssl`` tool.

- :class:`OcspResponder`: ``openssl ocsp`` answering for a CA from an index of revoked serials.
- :class:`FileServer`: static files (CRLs) over HTTP.
- :class:`OpensslTsa`: ``openssl ts -reply`` behind a small HTTP handler (RFC 3161 over HTTP).
- :func:`issue_with_revocation`: a signing certificate naming an OCSP responder and a CRL.

Every server listens on 127.0.0.1 only and is stopped with ``close()``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from docflow_signing.crypto.devca import Issued, KeyType, generate_key, key_usage


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def issue_with_revocation(ca: Issued, common_name: str, *, ocsp_url: str | None = None,
                          crl_url: str | None = None, key_type: KeyType = "ec",
                          not_before: datetime | None = None, days: int = 365) -> Issued:
    """A signing certificate (digitalSignature + nonRepudiation) naming an OCSP responder and/or a CRL."""
    key = generate_key(key_type)
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
    )
    builder = published_at(builder, ocsp_url=ocsp_url, crl_url=crl_url)
    return Issued(key, builder.sign(ca.key, hashes.SHA256()))


def published_at(builder: x509.CertificateBuilder, *, ocsp_url: str | None,
                 crl_url: str | None) -> x509.CertificateBuilder:
    """``builder`` naming where the certificate's revocation is published: its issuer's OCSP
    responder (AIA) and/or CRL (distribution point)."""
    if ocsp_url:
        builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]), critical=False)
    if crl_url:
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None,
            crl_issuer=None)]), critical=False)
    return builder


def issue_intermediate_ca(root: Issued, common_name: str, *, crl_url: str | None = None,
                          ocsp_url: str | None = None, key_type: KeyType = "ec") -> Issued:
    """An intermediate CA under ``root`` (made with ``create_ca(path_length=1)``), naming where its
    own revocation is published: the root's CRL and/or OCSP responder."""
    key = generate_key(key_type)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(root.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30)).not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False)
    )
    builder = published_at(builder, ocsp_url=ocsp_url, crl_url=crl_url)
    return Issued(key, builder.sign(root.key, hashes.SHA256()))


def make_crl(ca: Issued, revoked: Iterable[tuple[int, datetime]], *, number: int = 1,
             next_update: timedelta = timedelta(days=1), delta_of: int | None = None,
             freshest_url: str | None = None, reasons: dict[int, x509.ReasonFlags] | None = None) -> bytes:
    """A DER CRL of ``ca`` listing ``(serial, revoked_at)`` pairs (with ``reasons`` by serial);
    ``delta_of``: a delta CRL on that complete CRL number; ``freshest_url``: where its delta CRL is."""
    now = datetime.now(UTC)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.cert.subject)
               .last_update(now - timedelta(minutes=1)).next_update(now + next_update)
               .add_extension(x509.CRLNumber(number), critical=False))
    if delta_of is not None:
        builder = builder.add_extension(x509.DeltaCRLIndicator(delta_of), critical=True)
    if freshest_url is not None:
        builder = builder.add_extension(x509.FreshestCRL([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(freshest_url)], relative_name=None, reasons=None,
            crl_issuer=None)]), critical=False)
    for serial, when in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        if reasons and serial in reasons:
            entry = entry.add_extension(x509.CRLReason(reasons[serial]), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _openssl_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%y%m%d%H%M%SZ")


def _serial_hex(serial: int) -> str:
    text = format(serial, "X")
    return text if len(text) % 2 == 0 else "0" + text


class OcspResponder:
    """``openssl ocsp`` for ``ca``, signing with the CA's key (OpenSSL 3.0 binds every interface: test data only).

    ``revoked`` maps serials to revocation times; every other certificate of ``issued`` is good,
    and serials the index does not list are answered ``unknown``.
    """

    def __init__(self, ca: Issued, issued: Iterable[Issued], revoked: dict[int, datetime], directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        ca_pem, ca_key = ca.write(directory, "ocsp-ca")
        lines = []
        for cert in issued:
            serial = cert.cert.serial_number
            expiry = _openssl_time(cert.cert.not_valid_after_utc)
            subject = cert.cert.subject.rfc4514_string()
            if serial in revoked:
                lines.append(f"R\t{expiry}\t{_openssl_time(revoked[serial])},keyCompromise\t{_serial_hex(serial)}"
                             f"\tunknown\t/{subject}")
            else:
                lines.append(f"V\t{expiry}\t\t{_serial_hex(serial)}\tunknown\t/{subject}")
        index = directory / "index.txt"
        index.write_text("\n".join(lines) + "\n")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process = subprocess.Popen(
            ["openssl", "ocsp", "-index", str(index), "-port", str(self.port), "-rsigner", str(ca_pem),
             "-rkey", str(ca_key), "-CA", str(ca_pem), "-nmin", "60", "-ignore_err"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        # Ready once it prints "ACCEPT ...": it serves one connection at a time, so a probing
        # connection that sends nothing would hold it up.
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith(b"ACCEPT"):
            self.close()
            raise RuntimeError(f"openssl ocsp did not start: {line!r}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FileServer(_Server):
    """Serves ``files`` (name → bytes, replaceable while running) over HTTP GET (and POST, ignoring the body)."""

    def __init__(self, files: dict[str, bytes] | None = None) -> None:
        self.files = dict(files or {})
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                body = owner.files.get(self.path.lstrip("/"))
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            do_POST = do_GET  # a stand-in for a responder that answers garbage

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)


TSA_CONFIG = """\
[ tsa ]
default_tsa = docflow_tsa

[ docflow_tsa ]
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.pem
certs = {dir}/tsa-ca.pem
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_openssl_tsa_pki(directory: Path, name: str = "DocFlow Test TSA") -> Path:
    """A CA and a TSA certificate (EC P-256, extendedKeyUsage critical timeStamping), made with ``openssl``.

    Writes ``tsa-ca.pem`` (to trust), ``tsa.pem``, ``tsa.key`` and the ``openssl ts`` config; returns the config.
    """
    directory.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             "tsa-ca.key", "-out", "tsa-ca.pem", "-days", "30", "-subj", f"/CN={name} CA", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tsa.key",
             "-out", "tsa.csr", "-subj", f"/CN={name}", cwd=directory)
    (directory / "tsa.ext").write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                       "extendedKeyUsage=critical,timeStamping\n")
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "tsa-ca.pem", "-CAkey", "tsa-ca.key", "-CAcreateserial",
             "-out", "tsa.pem", "-days", "30", "-extfile", "tsa.ext", cwd=directory)
    (directory / "serial").write_text("01\n")
    config = directory / "tsa.cnf"
    config.write_text(TSA_CONFIG.format(dir=directory))
    return config


class OpensslTsa(_Server):
    """RFC 3161 over HTTP: each POSTed TimeStampReq is answered by ``openssl ts -reply`` with ``config``."""

    def __init__(self, config: Path) -> None:
        lock = threading.Lock()  # openssl ts keeps its serial number in a file
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock, tempfile.TemporaryDirectory() as work:
                    owner.requests += 1
                    Path(work, "q.tsq").write_bytes(query)
                    done = subprocess.run(
                        ["openssl", "ts", "-reply", "-config", str(config), "-queryfile", "q.tsq", "-out", "r.tsr"],
                        cwd=work, capture_output=True, env={**os.environ, "OPENSSL_CONF": str(config)},
                    )
                    reply = Path(work, "r.tsr").read_bytes() if done.returncode == 0 else b""
                self.send_response(200 if reply else 500)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)
