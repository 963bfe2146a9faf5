"""Maintainer tool: regenerate ``tracking_conformance.json`` from the outside data set.

Not run by the tests (they read only the generated file). Run it by hand, from the
repository root, after checking out a release of ``jkeen/tracking_number_data`` (MIT)::

    python tests/data/make_tracking_conformance.py /path/to/tracking_number_data 2.0.0

It keeps the facts the conformance tests check, per courier and per format: the format's
id and name, its check-digit algorithm and constants, the serial-number prefix rule, the
published valid and invalid test numbers, and the S10 issuing-country codes. Regular
expressions, descriptions and URLs are left out: the validator in
``orderbridge.domain.tracking`` carries its own definitions of the formats.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("tracking_conformance.json")
SOURCE_URL = "https://github.com/jkeen/tracking_number_data"


def format_facts(definition: dict[str, Any]) -> dict[str, Any]:
    """The checked facts of one tracking-number definition of the data set."""
    validation = definition.get("validation", {})
    serial = validation.get("serial_number_format", {})
    return {
        "id": definition.get("id"),
        "name": definition["name"],
        "checksum": validation.get("checksum"),
        "prepend_if": serial.get("prepend_if"),
        "valid": list(definition["test_numbers"]["valid"]),
        "invalid": list(definition["test_numbers"]["invalid"]),
    }


def s10_country_codes(couriers: dict[str, dict[str, Any]]) -> list[str]:
    """The issuing-country codes the data set lists for S10 (UPU) numbers, in its order."""
    s10 = couriers["s10"]["tracking_numbers"][0]
    return [
        entry["matches"]
        for extra in s10.get("additional", [])
        if extra.get("regex_group_name") == "CountryCode"
        for entry in extra["lookup"]
        if "matches" in entry
    ]


def build(dataset: Path, version: str) -> dict[str, Any]:
    """The conformance document for the data set checked out at ``dataset``."""
    couriers: dict[str, dict[str, Any]] = {}
    for path in sorted((dataset / "couriers").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        couriers[data["courier_code"]] = data
    if not couriers:
        raise SystemExit(f"no couriers/*.json under {dataset}")
    return {
        "source": {
            "dataset": "jkeen/tracking_number_data",
            "url": SOURCE_URL,
            "version": version,
            "license": "MIT (see tracking_conformance.NOTICE)",
        },
        "couriers": {
            code: {
                "name": data["name"],
                "formats": [format_facts(d) for d in data["tracking_numbers"]],
            }
            for code, data in sorted(couriers.items())
        },
        "s10_country_codes": s10_country_codes(couriers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="a checkout of tracking_number_data")
    parser.add_argument("version", help="the release of that checkout, e.g. 2.0.0")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    document = build(args.dataset, args.version)
    args.output.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n",
                           encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
