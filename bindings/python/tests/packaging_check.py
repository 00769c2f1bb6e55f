"""Run by bindings/python/test.sh inside a fresh venv where only the built wheel is
installed: the package imports from that venv and evaluates a flag."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import pennon
from pennon import EvaluationResult

SNAPSHOT = """{
  "schemaVersion": 1, "revision": 3,
  "flags": { "dark-mode": { "type": "boolean", "state": "on",
    "variants": { "on": true, "off": false }, "offVariant": "off",
    "rules": [ { "id": "beta", "when": { "attribute": "beta", "op": "equals", "value": true },
                 "serve": { "variant": "on" } } ],
    "fallthrough": { "variant": "off" } } }
}"""


def main() -> None:
    location = Path(pennon.__file__).resolve()
    assert location.is_relative_to(Path(sys.prefix).resolve()), f"pennon imported from {location}"
    package = resources.files("pennon")
    for shipped in ("py.typed", "_native.pyi"):
        assert package.joinpath(shipped).is_file(), f"the wheel lacks pennon/{shipped}"

    engine = pennon.Engine()
    assert engine.load(SNAPSHOT) == []
    result: EvaluationResult = engine.evaluate("dark-mode", {"targetingKey": "u-1", "beta": True}, default=False)
    assert result["value"] is True, result
    assert (result["reason"], result["ruleId"], result["revision"]) == ("TARGETING_MATCH", "beta", 3), result
    assert engine.get_boolean("dark-mode", {"targetingKey": "u-2"}, True) is False
    try:
        engine.load("{")
    except pennon.SnapshotError as error:
        assert error.code == "invalid_json"
    else:
        raise AssertionError("a broken snapshot loaded")
    print(f"packaging: pennon {pennon.__version__} from {location.parent} evaluated {result['reason']}")


if __name__ == "__main__":
    main()
