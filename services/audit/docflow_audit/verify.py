"""Verify an exported trail offline: ``python -m docflow_audit.verify export.json`` (or
``docflow-audit verify export.json``). Exit status 0 when the chain holds, 1 when it does not
(each break on its own line), 2 when the file is not an export."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from docflow_audit.trail.chain import chain_problems


def verify_file(path: Path) -> tuple[int, list[str]]:
    """The exit status and the lines to print for the export at ``path``."""
    try:
        export = json.loads(path.read_text(encoding="utf-8"))
        document_id, records, head = export["document_id"], export["records"], export.get("head")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return 2, [f"{path}: not a DocFlow audit export ({exc})"]
    problems = chain_problems(document_id, records, head)
    if problems:
        return 1, [f"{path}: the chain is broken", *problems]
    return 0, [f"{path}: {len(records)} records of document {document_id}, chain intact"]


def main(argv: list[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["verify"]:  # ``docflow-audit verify export.json``
        words = words[1:]
    parser = argparse.ArgumentParser(prog="docflow-audit verify", description=__doc__)
    parser.add_argument("export", type=Path, help="a file saved from GET /documents/{id}/audit/export")
    args = parser.parse_args(words)
    status, lines = verify_file(args.export)
    for line in lines:
        print(line, file=sys.stdout if status == 0 else sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
