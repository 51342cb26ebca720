"""Reduce NIST's SP 800-53 rev 5 control catalog spreadsheet to what the evidence needs, into
``evidence/data/nist-800-53-r5-catalog.json``: every control and enhancement id with its title, and for
a withdrawn one NIST's withdrawal text and the controls it was incorporated into (or moved to).

The evidence reads it to refuse a withdrawn id as a claim (cdk-nag cites AC-3(1), withdrawn into AC-6)
and the tests read it to keep ``data/control-objectives.tsv`` to ids that exist. Input: the CSV form of
NIST's ``sp800-53r5-control-catalog`` spreadsheet (columns Control Identifier, Control (or Control
Enhancement) Name, Control Text, ...; Windows-1252 as NIST exports it).

    .venv/bin/python tools/vendor_nist_catalog.py sp800-53r5-control-catalog.csv           # rewrite
    .venv/bin/python tools/vendor_nist_catalog.py sp800-53r5-control-catalog.csv --check   # exit 1 if it differs

A work of the United States Government (NIST), not subject to copyright in the United States (17 U.S.C. 105).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "constructs" / "compliant_bedrock" / "evidence" / "data" / "nist-800-53-r5-catalog.json"
_ID = re.compile(r"^([A-Z]{2})-(\d+)(?:\((\d+)\))?$")
_REF = re.compile(r"\b([A-Z]{2})-(\d+)(?:\((\d+)\))?")
SOURCE = {
    "publisher": "NIST, Joint Task Force",
    "title": "NIST SP 800-53 Revision 5, Security and Privacy Controls for Information Systems and Organizations "
             "(updates as of 2020-12-10)",
    "file": "sp800-53r5-control-catalog (NIST's control catalog spreadsheet, CSV form)",
    "doi": "https://doi.org/10.6028/NIST.SP.800-53r5",
    "license": "Public domain: a work of the United States Government (NIST), not subject to copyright in the "
               "United States (17 U.S.C. 105); reduced to ids, titles and withdrawal notes, text unchanged.",
    "checked_against": "every control of NIST's OSCAL LOW/MODERATE/HIGH/PRIVACY resolved baselines (5.1.1+u4, "
                       "usnistgov/oscal-content) is here and not withdrawn; the FedRAMP Rev5 profiles too",
}


def _key(control: str) -> tuple[str, int, int]:
    m = _ID.match(control)
    assert m, control
    return (m.group(1), int(m.group(2)), int(m.group(3)) if m.group(3) else -1)


def extract(csv_path: Path) -> dict:
    text = csv_path.read_bytes().decode("cp1252")
    rows = list(csv.reader(text.splitlines(True)))
    header, body = rows[0], rows[1:]
    if header[:3] != ["Control Identifier", "Control (or Control Enhancement) Name", "Control Text"]:
        raise SystemExit(f"{csv_path}: not NIST's control catalog CSV (header {header[:3]})")
    controls: dict[str, dict] = {}
    for row in body:
        control, title, statement = row[0].strip(), " ".join(row[1].split()), row[2].strip()
        if not _ID.match(control):
            raise SystemExit(f"{csv_path}: {control!r} is not a control id")
        entry: dict = {"title": title}
        if statement.startswith("[Withdrawn"):
            entry["withdrawn"] = statement.strip("[].").removeprefix("Withdrawn: ").rstrip(".]") + "."
            into = [f"{m.group(1)}-{int(m.group(2))}" + (f"({int(m.group(3))})" if m.group(3) else "")
                    for m in _REF.finditer(statement)]
            entry["incorporated_into"] = list(dict.fromkeys(into))
        controls[control] = entry
    return {"source": SOURCE, "count": len(controls),
            "withdrawn": sum(1 for c in controls.values() if "withdrawn" in c),
            "controls": {c: controls[c] for c in sorted(controls, key=_key)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = json.dumps(extract(args.csv), indent=1, ensure_ascii=False) + "\n"
    if args.check:
        same = OUTPUT.is_file() and OUTPUT.read_text(encoding="utf-8") == text
        print(f"{OUTPUT.relative_to(ROOT)}: {'up to date' if same else 'differs from the spreadsheet'}")
        return 0 if same else 1
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
