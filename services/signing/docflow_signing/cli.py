"""``docflow-signing``: a development CA with user certificates, detached CMS signing of files, and
an evidence seal.

    docflow-signing dev-ca --out ./devca --user "Aida Bekova" --iin 900101300123 --key-type rsa
    docflow-signing sign contract.pdf --key devca/aida-bekova.key --cert devca/aida-bekova.pem \\
        --out contract.pdf.p7s
    docflow-signing prove --key devca/aida-bekova.key --cert devca/aida-bekova.pem \\
        --challenge "$CHALLENGE"
    docflow-signing sign contract.pdf --key AUTH_GOST512.p12 --password "$PIN" --cert signer.cer \\
        --chain nca_gost2022.cer   # an NCA RK key: GOST 34.10-2015 (512), Streebog-512
    docflow-signing seal --dir /data/seal   # an evidence seal of its own, unless one is there

DocFlow never holds users' private keys; this tool plays the user's signing tool in demos and tests.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from asn1crypto import x509

from docflow_signing.crypto import kzkeys
from docflow_signing.crypto.devca import (
    create_ca,
    issue_user_certificate,
    key_proof,
    load_issued,
    sign_detached,
    slug,
)
from docflow_signing.crypto.streebog import GostUnavailable
from docflow_signing.crypto.trust import read_certificates
from docflow_signing.evidence.seal import DEV_CA, DEV_SEAL, make_seal

PKCS12_SUFFIXES = (".p12", ".pfx")


def _dev_ca(args: argparse.Namespace) -> int:
    out = Path(args.out)
    ca_cert, ca_key = out / "ca.pem", out / "ca.key"
    if ca_cert.exists() and ca_key.exists():
        ca = load_issued(ca_cert, ca_key)
        print(f"using the CA in {ca_cert}")
    else:
        ca = create_ca(args.ca_name, key_type=args.key_type)
        ca.write(out, "ca")
        print(f"CA certificate: {ca_cert} (put it in SIGNING_TRUST_DIR)\nCA key:         {ca_key}")
    iins = list(args.iin or [])
    emails = list(args.email or [])
    for index, name in enumerate(args.user or []):
        iin = iins[index] if index < len(iins) else None
        email = emails[index] if index < len(emails) else None
        user = issue_user_certificate(ca, name, key_type=args.key_type, iin=iin, email=email, days=args.days)
        cert_path, key_path = user.write(out, slug(name))
        print(f"{name}: certificate {cert_path}, key {key_path}")
    return 0


def _sign(args: argparse.Namespace) -> int:
    data = Path(args.file).read_bytes()
    out = Path(args.out or f"{args.file}.p7s")
    if Path(args.key).suffix.lower() in PKCS12_SUFFIXES or kzkeys.is_gost_private_key(Path(args.key).read_bytes()):
        return _sign_gost(args, data, out)
    signer = load_issued(Path(args.cert), Path(args.key),
                         args.password.encode() if args.password else None)
    out.write_bytes(sign_detached(data, signer))
    print(f"detached CMS signature (DER, SHA-256) written to {out}")
    return 0


def _sign_gost(args: argparse.Namespace, data: bytes, out: Path) -> int:
    """Sign with a GOST key: an NCA RK PKCS#12 (GOST 34.10-2015, 512) or a Russian GOST R 34.10-2012
    key (OpenSSL's GOST engine's PKCS#8, 256 or 512 bits). The certificate and chain come from
    files, since NCA RK's certificate bags use a cipher ``cryptography`` no longer has."""
    cert: x509.Certificate = read_certificates(Path(args.cert))[0]
    chain = [c for path in args.chain or [] for c in read_certificates(Path(path))]
    key_bytes = Path(args.key).read_bytes()
    try:
        if Path(args.key).suffix.lower() in PKCS12_SUFFIXES:
            signature = kzkeys.sign_detached(data, kzkeys.read_pkcs12(key_bytes, args.password or "", cert),
                                             chain=chain)
            kind = "GOST 34.10-2015 512, Streebog-512"
        else:
            key = kzkeys.read_gost_key(key_bytes, cert)
            signature = kzkeys.sign_detached_gost(data, key, chain=chain)
            kind = f"{key.algorithm.name}, {key.algorithm.digest_name}"
    except ValueError as exc:
        print(f"cannot sign with {args.key}: {exc}", file=sys.stderr)
        return 2
    except GostUnavailable as exc:
        print(exc.detail, file=sys.stderr)
        return 2
    out.write_bytes(signature)
    print(f"detached CMS signature (DER, {kind}) written to {out}")
    return 0


def _prove(args: argparse.Namespace) -> int:
    if Path(args.key).suffix.lower() in PKCS12_SUFFIXES:
        cert: x509.Certificate = read_certificates(Path(args.cert))[0]
        try:
            proof = kzkeys.key_proof(args.challenge, kzkeys.read_pkcs12(Path(args.key).read_bytes(),
                                                                        args.password or "", cert))
        except ValueError as exc:
            print(f"cannot sign with {args.key}: {exc}", file=sys.stderr)
            return 2
    else:
        proof = key_proof(args.challenge, load_issued(Path(args.cert), Path(args.key),
                                                      args.password.encode() if args.password else None))
    if args.out:
        Path(args.out).write_text(proof + "\n")
    else:
        print(proof)
    return 0


def _seal(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    made = make_seal(directory)
    print(f"{'made' if made else 'kept'} the evidence seal in {directory}: {DEV_SEAL}.pem, {DEV_SEAL}.key, "
          f"{DEV_CA}.pem (the CA verifiers trust)")
    return 0


def _signing_key(command: argparse.ArgumentParser, *, key: str, cert: str, out: str) -> None:
    """The options of a command that signs with a certificate's key: the key, the certificate,
    the password of an encrypted key, and where the result goes."""
    command.add_argument("--key", required=True, help=key)
    command.add_argument("--cert", required=True, help=cert)
    command.add_argument("--out", help=out)
    command.add_argument("--password", help="password of an encrypted key")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="docflow-signing", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = root.add_subparsers(dest="command", required=True)
    ca = commands.add_parser("dev-ca", help="create a development CA and user certificates")
    ca.add_argument("--out", default="devca", help="output directory (default: devca)")
    ca.add_argument("--ca-name", default="DocFlow Development CA")
    ca.add_argument("--key-type", choices=("rsa", "ec"), default="ec", help="RSA-2048 or ECDSA P-256")
    ca.add_argument("--user", action="append", help="a user's full name (repeatable)")
    ca.add_argument("--iin", action="append", help="IIN of the user at the same position (12 digits)")
    ca.add_argument("--email", action="append", help="e-mail of the user at the same position")
    ca.add_argument("--days", type=int, default=730, help="validity of user certificates")
    ca.set_defaults(run=_dev_ca)
    sign = commands.add_parser("sign", help="make a detached CMS signature of a file")
    sign.add_argument("file")
    _signing_key(sign, key="private key (PEM or DER), or an NCA RK PKCS#12 (.p12) for GOST",
                 cert="signer certificate (PEM or DER)", out="output .p7s (default: FILE.p7s)")
    sign.add_argument("--chain", action="append", help="CA certificate to embed (GOST; repeatable)")
    sign.set_defaults(run=_sign)
    prove = commands.add_parser(
        "prove", help="sign a key challenge: the DocFlow-Key-Proof header of a certificate upload")
    prove.add_argument("--challenge", required=True, help="the challenge from POST /api/v1/certificates/challenges")
    _signing_key(prove, key="private key (PEM or DER) of the certificate to upload",
                 cert="the certificate to upload (PEM or DER)",
                 out="write the proof (base64 DER CMS) here instead of printing it")
    prove.set_defaults(run=_prove)
    seal = commands.add_parser(
        "seal", help="make an evidence seal (certificate, key and its own CA) in a directory, unless one is there")
    seal.add_argument("--dir", required=True, help="where seal.pem, seal.key and seal-ca.pem go")
    seal.set_defaults(run=_seal)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
