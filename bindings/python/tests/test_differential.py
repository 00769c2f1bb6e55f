"""Differential mode (docs/bindings.md): the canonical serialiser matches core's
`pennon_core::json::canonical` byte for byte, and `differential.py` writes, for every
request, exactly the bytes core's JSON interface gives for the same request."""

from __future__ import annotations

import json
import math
import random
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from canonical import canonical, format_float
from differential import results
from pennon import Engine, _native

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parents[2]
SUITE = REPO / "tests" / "conformance"

SAMPLES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**53,
    2**53 + 1,
    2**63 - 1,
    -(2**63),
    2**64 - 1,
    0.0,
    -0.0,
    3.0,
    -12.0,
    0.5,
    0.1,
    1e-7,
    1e-5,
    0.0001,
    123.456,
    1e16,
    1e20,
    1e21,
    1.5e300,
    -2.5e-10,
    5e-324,
    1.7976931348623157e308,
    float(2**53),
    float(2**53 + 2),
    "",
    "plain",
    "é ü ß 日本語 😀 \U0010ffff",
    "quote \" backslash \\ slash /",
    "".join(chr(c) for c in range(0x20)),
    "\x7f \u0080 \u2028 \u2029 \ufeff",
    ["a", 1, 2.5, None, [True, {}], {"k": []}],
    {"b": 1, "a": 2, "B": 3, "é": 4, "e": 5, "😀": 6, "\uffff": 7, "": 8, "aa": {"z": 1, "a": [3.0]}},
    {"value": True, "nested": {"deeper": {"list": [1.25, -0.0, "x\ny"]}}},
]


@pytest.mark.parametrize("sample", SAMPLES, ids=[repr(s)[:40] for s in SAMPLES])
def test_canonical_matches_core(sample):
    assert canonical(sample) == _native._canonical_json(sample)


def test_canonical_floats_match_core_on_random_doubles():
    rnd = random.Random(20261122)
    values: list[float] = []
    while len(values) < 20000:
        value = struct.unpack("<d", struct.pack("<Q", rnd.getrandbits(64)))[0]
        if math.isfinite(value):
            values.append(value)
    for exponent in range(-25, 25):
        for mantissa in (1.0, 1.5, 9.87654321, 3.0):
            values.append(mantissa * 10.0**exponent)
    expected = _native._canonical_json(values)
    assert "[" + ",".join(format_float(v) for v in values) + "]" == expected


def test_canonical_rejects_what_json_cannot_hold():
    for bad in (float("nan"), float("inf"), {1: 2}, {1, 2}, object()):
        with pytest.raises((TypeError, ValueError)):
            canonical(bad)


def requests_for_case_files(snapshot_dir: Path) -> list[dict]:
    """One request per conformance case; inline snapshots are written to `snapshot_dir`."""
    requests = []
    for path in sorted((SUITE / "cases").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not data.get("cases"):
            continue
        if "snapshotFile" in data:
            target = snapshot_dir / Path(data["snapshotFile"]).name
            target.write_text((SUITE / data["snapshotFile"]).read_text(encoding="utf-8"), encoding="utf-8")
        else:
            target = snapshot_dir / path.name
            target.write_text(json.dumps(data["snapshot"], ensure_ascii=False), encoding="utf-8")
        for case in data["cases"]:
            requests.append(
                {
                    "snapshot": target.name,
                    "flag": case["flag"],
                    "context": case.get("context", {}),
                    "type": case["type"],
                    "default": case.get("default"),
                    "now": case.get("now", data.get("now")),
                }
            )
    return requests


def core_line(engines: dict, root: Path, request: dict) -> str:
    engine = engines.get(request["snapshot"])
    if engine is None:
        engine = engines[request["snapshot"]] = Engine()
        engine.load((root / request["snapshot"]).read_text(encoding="utf-8"))
    kind = request["type"]
    return engine._evaluate_canonical(
        request["flag"],
        json.dumps(request["context"]),
        None if kind == "any" else kind,
        json.dumps(request["default"]),
        request["now"],
    )


def test_every_conformance_case_matches_core_byte_for_byte(tmp_path: Path):
    requests = requests_for_case_files(tmp_path)
    assert len(requests) >= 400
    lines = [json.dumps(r, ensure_ascii=False) for r in requests]
    produced = list(results(lines, repo=tmp_path))
    assert len(produced) == len(requests)
    engines: dict = {}
    mismatches = [
        (request, got, want)
        for request, got in zip(requests, produced)
        if got != (want := core_line(engines, tmp_path, request))
    ]
    assert not mismatches, mismatches[:3]


def test_the_command_line(tmp_path: Path):
    context = {
        "targetingKey": "u-4711",
        "country": "DE",
        "plan": "enterprise",
        "appVersion": "5.4.1",
        "email": "Mara@Kestrel.example",
        "age": 34,
        "betaOptIn": True,
    }
    requests = [
        {"snapshot": "benches/fixtures/bindings.json", "flag": flag, "context": context, "type": kind,
         "default": default, "now": 1_795_000_000_000}
        for flag, kind, default in [
            ("static-flag", "boolean", False),
            ("targeting-flag", "any", None),
            ("split-flag", "string", "fallback"),
            ("split-flag", "number", 1.0),
            ("missing", "object", {"ü": "\u0007", "n": [2.5, 3.0]}),
        ]
    ]
    requests += [
        {"snapshot": "tests/conformance/snapshots/shop.json",
         "flag": ("new-checkout", "pricing.banner", "search.ranking", "checkout.kill-switch")[i % 4],
         "context": {"targetingKey": f"u-{i}", "country": "DE", "cartTotal": i * 7.5}, "type": "any",
         "default": None, "now": 1_795_330_000_000 + i * 1_800_000}
        for i in range(60)
    ]
    requests.append({"snapshot": "tests/conformance/snapshots/invalid-json.txt", "flag": "f", "context": {},
                     "type": "boolean", "default": True, "now": 0})
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in requests), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(TESTS / "differential.py"), str(source), str(target)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "does not load" in done.stderr  # the invalid snapshot is reported...
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(requests)
    engines: dict = {}
    for request, line in zip(requests[:-1], lines):
        assert line == core_line(engines, REPO, request)
    # ...and its request answered as by an engine that never loaded.
    assert json.loads(lines[-1])["errorCode"] == "PROVIDER_NOT_READY"
    assert lines[-1] == Engine()._evaluate_canonical("f", "{}", "boolean", "true", 0)
    assert json.loads(lines[0])["value"] is True
    assert '"value":{"n":[2.5,3],"ü":"\\u0007"}' in lines[4]


def test_usage_without_arguments():
    done = subprocess.run([sys.executable, str(TESTS / "differential.py")], capture_output=True, text=True)
    assert done.returncode == 2
    assert "differential.py IN.jsonl OUT.jsonl" in done.stderr
