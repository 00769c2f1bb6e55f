"""The Engine's contract (docs/bindings.md): loading, keep-last-good, results, typed
getters, evaluate_all, PROVIDER_NOT_READY, INVALID_CONTEXT conversions and argument errors."""

from __future__ import annotations

import copy
import enum
import json
import math
import sys
from collections import OrderedDict
from pathlib import Path

import pytest

import pennon
from pennon import ArgumentError, Engine, PennonError, SnapshotError

REPO = Path(__file__).resolve().parents[3]
NOW = 1_795_000_000_000
RESULT_KEYS = [
    "value",
    "variant",
    "reason",
    "ruleId",
    "stage",
    "shadowVariant",
    "errorCode",
    "errorMessage",
    "revision",
    "flagMetadata",
]


def snapshot(revision: int = 1, **flags: dict) -> dict:
    return {"schemaVersion": 1, "revision": revision, "flags": flags}


def boolean_flag(**extra) -> dict:
    flag = {
        "type": "boolean",
        "state": "on",
        "variants": {"on": True, "off": False},
        "offVariant": "off",
        "fallthrough": {"variant": "on"},
    }
    flag.update(extra)
    return flag


SAMPLE = snapshot(
    7,
    **{
        "dark-mode": boolean_flag(metadata={"owner": "web", "tags": ["ui"]}),
        "age-gate": boolean_flag(
            rules=[
                {
                    "id": "adults",
                    "when": {"attribute": "age", "op": "gte", "value": 18},
                    "serve": {"variant": "on"},
                }
            ],
            fallthrough={"variant": "off"},
        ),
        "beta": boolean_flag(
            rules=[
                {
                    "id": "opted-in",
                    "when": {"attribute": "betaOptIn", "op": "equals", "value": True},
                    "serve": {"variant": "on"},
                }
            ],
            fallthrough={"variant": "off"},
        ),
        "deep": boolean_flag(
            rules=[
                {
                    "id": "deep-match",
                    "when": {"attribute": "/a/b", "op": "equals", "value": "x"},
                    "serve": {"variant": "on"},
                }
            ],
            fallthrough={"variant": "off"},
        ),
        "banner": {
            "type": "string",
            "state": "on",
            "variants": {"a": "Hello", "b": "Grüß dich"},
            "offVariant": "a",
            "fallthrough": {"variant": "b"},
        },
        "limit": {
            "type": "number",
            "state": "on",
            "variants": {"low": 10, "high": 2.5},
            "offVariant": "low",
            "fallthrough": {"variant": "high"},
        },
        "theme": {
            "type": "object",
            "state": "on",
            "variants": {"dark": {"bg": "#000", "sizes": [1, 2]}, "light": {"bg": "#fff"}},
            "offVariant": "light",
            "fallthrough": {"variant": "dark"},
        },
        "rollout": boolean_flag(
            fallthrough={"rollout": {"variant": "on", "otherwise": "off", "percentage": 50}}
        ),
    },
)


@pytest.fixture
def engine() -> Engine:
    engine = Engine()
    assert engine.load(SAMPLE) == []
    return engine


# --- loading ---------------------------------------------------------------------------


def test_before_any_load_the_engine_is_not_ready():
    engine = Engine()
    assert engine.revision is None
    assert engine.warnings == []
    result = engine.evaluate("dark-mode", {"targetingKey": "u"}, default="fallback", now=NOW)
    assert list(result) == RESULT_KEYS
    assert result["value"] == "fallback"
    assert result["reason"] == "ERROR"
    assert result["errorCode"] == "PROVIDER_NOT_READY"
    assert result["errorMessage"]
    assert result["revision"] is None
    assert engine.get_boolean("dark-mode", {}, True) is True
    assert engine.evaluate_all({}) == {}
    assert repr(engine) == "<pennon._native.Engine (no snapshot)>"


def test_load_text_bytes_and_dict_alike():
    text = json.dumps(SAMPLE)
    results = []
    for source in (text, text.encode(), SAMPLE, OrderedDict(SAMPLE)):
        engine = Engine()
        assert engine.load(source) == []
        assert engine.revision == 7
        results.append(engine.evaluate_all({"targetingKey": "u-1", "age": 30}, now=NOW))
    assert all(r == results[0] for r in results)
    assert repr(engine) == "<pennon._native.Engine revision=7>"


def test_load_does_not_mutate_the_dict():
    document = copy.deepcopy(SAMPLE)
    Engine().load(document)
    assert document == SAMPLE


def test_warnings_are_returned_and_kept():
    document = snapshot(3, good=boolean_flag(), bad=boolean_flag(state="sideways"))
    document["surprise"] = True
    engine = Engine()
    warnings = engine.load(document)
    assert [w["code"] for w in warnings] == ["unknown_field", "invalid_value"]
    assert warnings[0]["path"] == "/surprise"
    assert warnings[1]["path"].startswith("/flags/bad/")
    assert all(w["message"] for w in warnings)
    assert engine.warnings == warnings
    bad = engine.evaluate("bad", {}, default=False, now=NOW)
    assert (bad["reason"], bad["errorCode"], bad["value"]) == ("ERROR", "PARSE_ERROR", False)
    assert engine.get_boolean("good", {}, False, NOW) is True


@pytest.mark.parametrize(
    ("document", "code", "path"),
    [
        ("{", "invalid_json", None),
        (b"\xff\xfe", "invalid_json", None),
        ("[]", "invalid_snapshot", None),
        ([], "invalid_snapshot", None),
        ({"schemaVersion": 2, "revision": 1, "flags": {}}, "unsupported_schema_version", "/schemaVersion"),
        ({"schemaVersion": 1, "revision": -1, "flags": {}}, "invalid_snapshot", "/revision"),
        ({"schemaVersion": 1, "revision": 1}, "invalid_snapshot", "/flags"),
        ({"schemaVersion": 1, "revision": 1, "flags": {}, "metadata": {"x": float("nan")}}, "invalid_json", "/metadata/x"),
        ({"schemaVersion": 1, "revision": 1, "flags": {1: {}}}, "invalid_json", "/flags"),
        ({"schemaVersion": 1, "revision": 1, "flags": {}, "metadata": {"s": {1, 2}}}, "invalid_json", "/metadata/s"),
        ("\ud800", "invalid_json", None),
    ],
)
def test_load_failures_raise_snapshot_error(document, code, path):
    engine = Engine()
    with pytest.raises(SnapshotError) as raised:
        engine.load(document)
    error = raised.value
    assert isinstance(error, PennonError)
    assert error.code == code
    assert error.path == path
    assert str(error).startswith(code)
    assert engine.revision is None


def test_a_failed_load_keeps_the_last_good_snapshot(engine: Engine):
    before = engine.evaluate_all({"targetingKey": "u-1"}, now=NOW)
    for broken in ("not json", {"schemaVersion": 1, "revision": 8}, {"schemaVersion": 9, "revision": 8, "flags": {}}):
        with pytest.raises(SnapshotError):
            engine.load(broken)
        assert engine.revision == 7
        assert engine.warnings == []
        assert engine.evaluate_all({"targetingKey": "u-1"}, now=NOW) == before
    # A good update replaces it.
    engine.load(snapshot(8, **{"dark-mode": boolean_flag(state="off")}))
    assert engine.revision == 8
    assert engine.evaluate("dark-mode", {}, now=NOW)["reason"] == "DISABLED"


def test_big_integers_in_a_dict_snapshot_load_as_in_text():
    # serde_json reads an integer beyond 64 bits as a float, so `revision` is then invalid
    # both ways.
    document = snapshot(2**70)
    for source in (document, json.dumps(document)):
        with pytest.raises(SnapshotError) as raised:
            Engine().load(source)
        assert (raised.value.code, raised.value.path) == ("invalid_snapshot", "/revision")


def test_nesting_limit_of_dict_snapshots_matches_text():
    deep: dict = {}
    for _ in range(200):
        deep = {"d": deep}
    document = snapshot(1)
    document["metadata"] = deep
    for source in (document, json.dumps(document)):
        with pytest.raises(SnapshotError) as raised:
            Engine().load(source)
        assert raised.value.code == "invalid_json"


# --- results ---------------------------------------------------------------------------


def test_result_is_a_dict_with_the_canonical_keys(engine: Engine):
    result = engine.evaluate("dark-mode", {"targetingKey": "u-1"}, now=NOW)
    assert list(result) == RESULT_KEYS
    assert result == {
        "value": True,
        "variant": "on",
        "reason": "STATIC",
        "ruleId": None,
        "stage": None,
        "shadowVariant": None,
        "errorCode": None,
        "errorMessage": None,
        "revision": 7,
        "flagMetadata": {"owner": "web", "tags": ["ui"]},
    }


def test_results_are_fresh_objects(engine: Engine):
    first = engine.evaluate("theme", {}, now=NOW)
    first["value"]["bg"] = "mutated"
    first["flagMetadata"] = None
    second = engine.evaluate("theme", {}, now=NOW)
    assert second["value"] == {"bg": "#000", "sizes": [1, 2]}
    meta = engine.evaluate("dark-mode", {}, now=NOW)["flagMetadata"]
    assert meta is not None
    meta["tags"].append("x")
    assert engine.evaluate("dark-mode", {}, now=NOW)["flagMetadata"] == {"owner": "web", "tags": ["ui"]}


def test_the_default_comes_back_as_the_same_object(engine: Engine):
    sentinel = object()
    result = engine.evaluate("missing", {}, default=sentinel, now=NOW)
    assert result["value"] is sentinel
    assert (result["reason"], result["errorCode"]) == ("ERROR", "FLAG_NOT_FOUND")
    assert result["revision"] == 7
    default = {"x": 1}
    assert engine.get_object("missing", {}, default) is default


def test_type_checks(engine: Engine):
    ok = engine.evaluate("banner", {}, type="string", now=NOW)
    assert ok["value"] == "Grüß dich"
    wrong = engine.evaluate("banner", {}, type="boolean", default=False, now=NOW)
    assert (wrong["value"], wrong["errorCode"]) == (False, "TYPE_MISMATCH")
    assert engine.evaluate("banner", {}, type=None, now=NOW)["value"] == "Grüß dich"


def test_typed_getters(engine: Engine):
    ctx = {"targetingKey": "u-1", "age": 40}
    assert engine.get_boolean("age-gate", ctx, False, NOW) is True
    assert engine.get_boolean("age-gate", {"age": 3}, True, NOW) is False
    assert engine.get_string("banner", ctx, "x", NOW) == "Grüß dich"
    number = engine.get_number("limit", ctx, 0, NOW)
    assert number == 2.5 and isinstance(number, float)
    assert engine.get_object("theme", ctx, {}, NOW) == {"bg": "#000", "sizes": [1, 2]}
    # A type mismatch, a missing flag, an invalid context: the default.
    assert engine.get_string("age-gate", ctx, "default", NOW) == "default"
    assert engine.get_number("nope", ctx, -1, NOW) == -1
    assert engine.get_boolean("dark-mode", {"bad": math.inf}, False, NOW) is False
    # `now` is optional (the host clock) and may be passed by keyword.
    assert engine.get_boolean("dark-mode", ctx, False) is True
    assert engine.get_boolean(flag="dark-mode", context=ctx, default=False, now=NOW) is True


def test_integral_numbers_stay_ints(engine: Engine):
    doc = snapshot(1, n={"type": "number", "state": "on", "variants": {"a": 10}, "offVariant": "a",
                         "fallthrough": {"variant": "a"}})
    engine.load(doc)
    value = engine.get_number("n", {}, 0, NOW)
    assert value == 10 and type(value) is int


def test_evaluate_all(engine: Engine):
    all_flags = engine.evaluate_all({"targetingKey": "u-1", "age": 20}, now=NOW)
    assert list(all_flags) == sorted(SAMPLE["flags"])
    for key, result in all_flags.items():
        assert list(result) == RESULT_KEYS
        assert result == engine.evaluate(key, {"targetingKey": "u-1", "age": 20}, now=NOW)
    assert engine.evaluate_all({"targetingKey": "u-1"}) == engine.evaluate_all({"targetingKey": "u-1"}, None)


def test_evaluate_all_with_an_invalid_context(engine: Engine):
    all_flags = engine.evaluate_all({"x": float("nan")}, now=NOW)
    assert list(all_flags) == sorted(SAMPLE["flags"])
    assert {r["errorCode"] for r in all_flags.values()} == {"INVALID_CONTEXT"}
    assert {r["revision"] for r in all_flags.values()} == {7}


def test_now_is_used(engine: Engine):
    engine.load(snapshot(2, w=boolean_flag(window={"from": "2026-01-01T00:00:00Z"})))
    before = engine.evaluate("w", {}, now=0)
    after = engine.evaluate("w", {}, now=NOW)
    assert before["reason"] == "OUT_OF_WINDOW"
    assert after["reason"] != "OUT_OF_WINDOW"
    # Without `now`, the host clock (well after 2026-01-01 on any machine running this).
    assert engine.evaluate("w", {})["reason"] == after["reason"]


# --- contexts --------------------------------------------------------------------------


def test_bool_is_not_an_int(engine: Engine):
    # `True` must reach core as a boolean: `gte 18` is false for it, `equals true` true.
    assert engine.get_boolean("age-gate", {"age": True}, True, NOW) is False
    assert engine.get_boolean("beta", {"betaOptIn": True}, False, NOW) is True
    assert engine.get_boolean("beta", {"betaOptIn": 1}, True, NOW) is False


class Plan(str, enum.Enum):
    GOLD = "gold"


class Level(enum.IntEnum):
    HIGH = 30


def test_subclasses_convert_like_their_json_type(engine: Engine):
    assert engine.get_boolean("age-gate", {"age": Level.HIGH}, False, NOW) is True
    assert engine.get_boolean("deep", {"a": OrderedDict(b="x")}, False, NOW) is True
    result = engine.evaluate("dark-mode", {"plan": Plan.GOLD, "tags": ("a", "b")}, now=NOW)
    assert result["errorCode"] is None


def test_nested_attributes_and_integers_at_the_limits(engine: Engine):
    assert engine.get_boolean("deep", {"a": {"b": "x"}}, False, NOW) is True
    for fine in (2**63 - 1, -(2**63), 2**64 - 1, 0, 1.5):
        assert engine.evaluate("age-gate", {"age": fine}, now=NOW)["errorCode"] is None, fine


def nested(levels: int) -> dict:
    """A context whose containers nest `levels` deep (the context itself is level 1)."""
    value: object = "leaf"
    for _ in range(levels - 1):
        value = {"n": value}
    return {"n": value}


def test_nesting_up_to_64_levels_is_fine(engine: Engine):
    assert engine.evaluate("dark-mode", nested(64), now=NOW)["errorCode"] is None
    deep_list: object = 1
    for _ in range(63):
        deep_list = [deep_list]
    assert engine.evaluate("dark-mode", {"l": deep_list}, now=NOW)["errorCode"] is None


cyclic: dict = {}
cyclic["self"] = cyclic


class Opaque:
    pass


@pytest.mark.parametrize(
    ("context", "where"),
    [
        (nested(65), "nests deeper than 64 levels"),
        ({"self": cyclic}, "nests deeper than 64 levels"),
        ({"x": float("nan")}, "/x"),
        ({"x": float("inf")}, "/x"),
        ({"x": [1, -math.inf]}, "/x/1"),
        ({1: "a"}, "keys must be str"),
        ({"a": {("t",): 1}}, "keys must be str"),
        ({"x": 2**64}, "/x"),
        ({"x": -(2**63) - 1}, "/x"),
        ({"x": 10**100}, "64-bit"),
        ({"x": {1, 2}}, "set"),
        ({"x": b"bytes"}, "bytes"),
        ({"x": Opaque()}, "Opaque"),
        ({"x": len}, "builtin_function_or_method"),
        ({"x": "\udc80"}, "surrogates"),
        ({"\udc80": 1}, "surrogates"),
        ([("targetingKey", "u")], "the context must be an object"),
        ("targetingKey=u", "the context must be an object"),
    ],
)
def test_unconvertible_contexts_give_invalid_context(engine: Engine, context, where):
    result = engine.evaluate("dark-mode", context, default="d", now=NOW)
    assert result["reason"] == "ERROR"
    assert result["errorCode"] == "INVALID_CONTEXT"
    assert result["value"] == "d"
    assert result["revision"] == 7
    message = result["errorMessage"]
    assert message is not None and where in message, message
    assert engine.get_boolean("dark-mode", context, False, NOW) is False


def test_attributes_a_flag_does_not_read_are_checked_alike(engine: Engine):
    # "dark-mode" reads no attribute, "age-gate" reads `age`: the engine builds only what a
    # flag reads but checks everything, so both flags judge a context the same way.
    for context in ({"age": math.nan}, {"age": 30, "other": "\udc80"}, {"age": 30, "deep": nested(70)}):
        messages = {engine.evaluate(flag, context, now=NOW)["errorMessage"] for flag in ("dark-mode", "age-gate")}
        assert len(messages) == 1 and None not in messages, messages
    assert engine.evaluate("age-gate", {"age": 30, "other": {"x": [1]}}, now=NOW)["value"] is True


def test_the_context_is_not_mutated(engine: Engine):
    context = {"targetingKey": "u", "a": {"b": ["x"]}, "age": 21}
    frozen = copy.deepcopy(context)
    engine.evaluate_all(context, now=NOW)
    assert context == frozen


# --- argument errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda e: e.evaluate(42, {}), "flag key must be a string, not a number"),
        (lambda e: e.evaluate(None, {}), "flag key must be a string, not null"),
        (lambda e: e.evaluate(b"dark-mode", {}), "flag key must be a string, not a bytes"),
        (lambda e: e.evaluate("dark-mode", {}, type="bool"), "unknown type `bool`"),
        (lambda e: e.evaluate("dark-mode", {}, type=bool), "the type must be a string, not a type"),
        (lambda e: e.evaluate("dark-mode", {}, now=float("nan")), "within 64 bits, not NaN"),
        (lambda e: e.evaluate("dark-mode", {}, now="2026-01-01"), "now must be a number"),
        (lambda e: e.evaluate("dark-mode", {}, now=True), "not a boolean"),
        (lambda e: e.evaluate("dark-mode", {}, now=2**63), "within 64 bits, not 9223372036854775808"),
        (lambda e: e.get_boolean(1, {}, False), "flag key must be a string"),
        (lambda e: e.get_string("banner", {}, None), "must be a string, not null"),
        (lambda e: e.evaluate_all({}, now="now"), "now must be a number"),
    ],
)
def test_programmer_errors_raise_argument_error(engine: Engine, call, fragment):
    with pytest.raises(ArgumentError) as raised:
        call(engine)
    error = raised.value
    assert isinstance(error, ValueError) and isinstance(error, PennonError)
    assert error.code == "invalid_argument"
    assert error.path is None
    assert fragment in str(error)


def test_argument_errors_are_raised_before_not_ready():
    with pytest.raises(ArgumentError):
        Engine().evaluate(1, {})  # type: ignore[arg-type]


def test_missing_arguments_are_type_errors(engine: Engine):
    with pytest.raises(TypeError):
        engine.evaluate("dark-mode", {}, "boolean")  # type: ignore[misc]
    with pytest.raises(TypeError):
        engine.get_boolean("dark-mode", {})  # type: ignore[call-arg]


def test_package_reexports_the_native_names():
    from pennon import _native

    for name in _native.__all__:
        assert getattr(pennon, name) is getattr(_native, name)
    assert set(_native.__all__) <= set(pennon.__all__)
    assert pennon.__version__


class Name(str):
    pass


def test_keys_of_every_kind_and_many_of_them(engine: Engine):
    # Keys are cached per thread by object identity; equal keys that are different
    # objects, str subclasses, and far more distinct keys than the cache holds must all
    # convert by value.
    built = "".join(["a", "g", "e"])
    assert built == "age" and built is not sys.intern("age")
    assert engine.get_boolean("age-gate", {built: 30}, False, NOW) is True
    assert engine.get_boolean("age-gate", {Name("age"): 30}, False, NOW) is True
    assert engine.get_boolean("age-gate", {Name("agE"): 30}, True, NOW) is False
    for i in range(10_000):
        noise = f"attribute-{i}"
        context = {noise: i, "age": 30 if i % 2 else 3}
        assert engine.get_boolean("age-gate", context, not i % 2, NOW) is bool(i % 2), i
    # Flag keys go through the same cache.
    for i in range(5_000):
        assert engine.evaluate(f"missing-{i}", {}, now=NOW)["errorCode"] == "FLAG_NOT_FOUND"
    assert engine.get_boolean("".join(["dark", "-mode"]), {}, False, NOW) is True


def test_integers_too_large_for_any_number():
    document = snapshot(1)
    document["metadata"] = {"huge": 10**400}
    with pytest.raises(SnapshotError) as raised:
        Engine().load(document)
    assert (raised.value.code, raised.value.path) == ("invalid_json", "/metadata/huge")
    with pytest.raises(SnapshotError) as raised:
        Engine().load(json.dumps(document))
    assert raised.value.code == "invalid_json"


def test_the_key_cache_keeps_no_large_keys():
    # Short keys are cached per thread (one reference held), long ones never are, so unique
    # large keys cannot pile up in memory.
    engine = Engine(SAMPLE)
    short = "".join(["short-", "key"])
    long = "".join(["x" * 10_000, "-unique"])
    before_short, before_long = sys.getrefcount(short), sys.getrefcount(long)
    engine.evaluate(short, {}, now=NOW)
    engine.evaluate(long, {long: 1}, now=NOW)
    assert sys.getrefcount(short) == before_short + 1
    assert sys.getrefcount(long) == before_long


def test_arrays_longer_than_the_limit_give_invalid_context():
    engine = Engine(SAMPLE)
    fine = engine.evaluate("dark-mode", {"ids": [0] * (1 << 20)}, now=NOW)
    assert fine["errorCode"] is None
    result = engine.evaluate("dark-mode", {"ids": [0] * ((1 << 20) + 1)}, default=False, now=NOW)
    assert (result["errorCode"], result["value"]) == ("INVALID_CONTEXT", False)
    assert result["errorMessage"] == "context arrays may have at most 1048576 elements"


def test_a_dict_loads_exactly_as_its_text():
    # One document, one answer: a flag nested too deep fails alone, whether the snapshot
    # arrives as text or as a dict (the dict loads as its JSON text).
    deep: object = 1
    for _ in range(200):
        deep = {"a": deep}
    document = snapshot(4, ok=boolean_flag(), deep=boolean_flag(metadata=deep))
    outcomes = []
    for source in (document, json.dumps(document)):
        engine = Engine()
        warnings = engine.load(source)
        outcomes.append([(w["code"], w["path"]) for w in warnings])
        assert engine.get_boolean("ok", {}, False, NOW) is True
    assert outcomes[0] == outcomes[1] == [("invalid_json", "/flags/deep")]
    # Floats stay floats: a revision of 4.0 is refused in both forms.
    for source in (snapshot(4.0), json.dumps(snapshot(4.0))):  # type: ignore[arg-type]
        with pytest.raises(SnapshotError):
            Engine().load(source)
