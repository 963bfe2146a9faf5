"""Conformance of the hand-written validator with jkeen/tracking_number_data (outside data).

The dataset lives outside the repository, in ``<repo>/../shared/data/tracking_number_data``
(``ORDERBRIDGE_SHARED_DIR`` points at another ``shared`` directory). It is only read here:
every ``test_numbers.valid`` entry of every definition of the couriers we support must be
valid for its carrier *and* taken by that format; every ``invalid`` entry must be refused
by that same format. Nothing is skipped: a missing dataset fails, a definition we do not
implement must be listed in ``EXCLUDED`` with a reason, and a courier file must be either
supported or listed in ``NOT_OURS``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from orderbridge.domain.tracking import FORMATS, validate_tracking

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_ENV = "ORDERBRIDGE_SHARED_DIR"

SUPPORTED = {"amazon", "dhl", "fedex", "gofo", "lasership", "ontrac", "s10", "speedee", "ups",
             "usps"}
NOT_OURS = {
    "canada_post": "Canada Post: not a US carrier",
    "canpar": "Canpar: Canadian carrier",
    "dpd": "DPD: European carrier (and its mod_37_36 check is not implemented)",
    "landmark": "Landmark Global: cross-border consolidator, not offered by TikTok Shop US",
    "old_dominion": "Old Dominion: LTL freight, not parcels",
    "purolator": "Purolator: Canadian carrier",
    "yodel": "Yodel: UK carrier",
    "yunexpress": "YunExpress: cross-border consolidator, not offered by TikTok Shop US",
}
# Definitions of supported couriers that have no id in the dataset: our ids for them.
UNNAMED = {("ups", "UPS Waybill"): "ups_waybill",
           ("lasership", "LaserShip 1LS7 (18)"): "lasership_1ls7_18"}
# Definitions of supported couriers that the validator does not implement, with why.
EXCLUDED: dict[str, str] = {}


def couriers_dir() -> Path:
    shared = os.environ.get(SHARED_ENV)
    base = Path(shared) if shared else REPO_ROOT.parent / "shared"
    return base / "data" / "tracking_number_data" / "couriers"


def missing_message() -> str | None:
    directory = couriers_dir()
    if directory.is_dir() and any(directory.glob("*.json")):
        return None
    return (
        f"the tracking-number dataset is missing: no couriers/*.json in {directory}. "
        f"Put jkeen/tracking_number_data v2.0.0 under shared/data/tracking_number_data, or "
        f"set {SHARED_ENV} to the directory that holds data/tracking_number_data."
    )


def load_couriers() -> dict[str, dict[str, Any]]:
    couriers: dict[str, dict[str, Any]] = {}
    for path in sorted(couriers_dir().glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        couriers[data["courier_code"]] = data
    return couriers


def definitions() -> list[tuple[str, str, dict[str, Any]]]:
    """(courier code, our format id, definition) for every definition of a supported courier."""
    found = []
    for code, data in load_couriers().items():
        if code in SUPPORTED:
            for definition in data["tracking_numbers"]:
                format_id = definition.get("id") or UNNAMED[(code, definition["name"])]
                found.append((code, format_id, definition))
    return found


def cases(kind: str) -> list[Any]:
    """One pytest case per test number; a single failing case when the dataset is missing."""
    message = missing_message()
    if message is not None:
        return [pytest.param("", "", message, id="dataset-missing")]
    params = [
        pytest.param(format_id, number, None, id=f"{format_id}-{kind}-{i}-{number.strip()}")
        for _code, format_id, definition in definitions()
        if format_id not in EXCLUDED
        for i, number in enumerate(definition["test_numbers"][kind])
    ]
    return params or [pytest.param("", "", f"no {kind} test numbers found", id="no-cases")]


def fail_if_missing(problem: str | None) -> None:
    if problem is not None:
        pytest.fail(problem)


@pytest.mark.parametrize(("format_id", "number", "problem"), cases("valid"))
def test_valid_number(format_id: str, number: str, problem: str | None) -> None:
    fail_if_missing(problem)
    fmt = FORMATS[format_id]
    assert fmt.carrier is not None
    assert fmt.check(number).valid, fmt.check(number).reason
    check = validate_tracking(fmt.carrier, number)
    assert check.valid, check.reason
    assert check.format_id == format_id


@pytest.mark.parametrize(("format_id", "number", "problem"), cases("invalid"))
def test_invalid_number(format_id: str, number: str, problem: str | None) -> None:
    fail_if_missing(problem)
    assert not FORMATS[format_id].check(number).valid


def test_dataset_is_present() -> None:
    fail_if_missing(missing_message())


def test_every_courier_is_supported_or_listed() -> None:
    fail_if_missing(missing_message())
    assert set(load_couriers()) == SUPPORTED | NOT_OURS.keys()


def test_every_definition_is_implemented_or_excluded() -> None:
    fail_if_missing(missing_message())
    ids = {format_id for _code, format_id, _definition in definitions()}
    assert ids - FORMATS.keys() == EXCLUDED.keys()
    assert all(d["test_numbers"]["valid"] for _code, _id, d in definitions())


def test_checksum_constants_match_the_dataset() -> None:
    """Our algorithm and its constants, per format, are the dataset's."""
    fail_if_missing(missing_message())
    for _code, format_id, definition in definitions():
        fmt = FORMATS[format_id]
        spec = definition.get("validation", {}).get("checksum")
        if spec is None:
            assert fmt.checksum is None, format_id
            continue
        assert fmt.checksum is not None, format_id
        assert fmt.checksum.name == spec["name"], format_id
        if spec["name"] == "mod10":
            assert fmt.checksum.evens_multiplier == spec["evens_multiplier"], format_id
            assert fmt.checksum.odds_multiplier == spec["odds_multiplier"], format_id
            assert fmt.checksum.reverse == spec.get("reverse", False), format_id
        if spec["name"] == "sum_product_with_weightings_and_modulo":
            assert list(fmt.checksum.weightings) == spec["weightings"], format_id
            assert (fmt.checksum.modulo1, fmt.checksum.modulo2) == (
                spec["modulo1"], spec["modulo2"]), format_id
        prepend = definition["validation"].get("serial_number_format", {}).get("prepend_if")
        assert fmt.prepend == (prepend["content"] if prepend else ""), format_id
        if prepend:
            # The dataset prepends ``content`` unless the serial already starts with it,
            # which is what ``Format.prepend`` does.
            unless = re.fullmatch(r"\^\(\?!(.+?)\)\.\+\$?", prepend["matches_regex"])
            assert unless is not None, format_id
            assert unless.group(1).replace("\\s*", "") == prepend["content"], format_id


def test_s10_accepts_every_country_of_the_dataset() -> None:
    """S10 numbers need a known issuing country: every one the dataset lists is known."""
    fail_if_missing(missing_message())
    s10 = load_couriers()["s10"]["tracking_numbers"][0]
    countries = [
        entry["matches"]
        for extra in s10["additional"]
        if extra.get("regex_group_name") == "CountryCode"
        for entry in extra["lookup"]
    ]
    assert len(countries) > 100
    refused = [c for c in countries if not FORMATS["s10"].check(f"RB123456785{c}").valid]
    assert refused == []
