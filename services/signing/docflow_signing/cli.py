"""``docflow-signing``: a development CA with user certificates, and detached CMS signing of files.

    docflow-signing dev-ca --out ./devca --user "Aida Bekova" --iin 900101300123 --key-type rsa
    docflow-signing sign contract.pdf --key devca/aida-bekova.key --cert devca/aida-bekova.pem \\
        --out contract.pdf.p7s

DocFlow never holds users' private keys; this tool plays the user's signing tool in demos and tests.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from docflow_signing.crypto.devca import (
    create_ca,
    issue_user_certificate,
    load_issued,
    sign_detached,
    slug,
)


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
    signer = load_issued(Path(args.cert), Path(args.key),
                         args.password.encode() if args.password else None)
    data = Path(args.file).read_bytes()
    signature = sign_detached(data, signer)
    out = Path(args.out or f"{args.file}.p7s")
    out.write_bytes(signature)
    print(f"detached CMS signature (DER, SHA-256) written to {out}")
    return 0


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
    sign.add_argument("--key", required=True, help="private key (PEM or DER)")
    sign.add_argument("--cert", required=True, help="signer certificate (PEM or DER)")
    sign.add_argument("--out", help="output .p7s (default: FILE.p7s)")
    sign.add_argument("--password", help="password of an encrypted key")
    sign.set_defaults(run=_sign)
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
