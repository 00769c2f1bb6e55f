"""The engines of the peers benchmark in Python: Pennon (pennon._native through the
`pennon` package) and the peers' SDKs, each loaded offline from its own definition file in
../workloads/.

Every factory returns an Engine: `context(user)` turns an engine-neutral context of
../workloads/cases.json into the SDK's native one; `w1`/`w2`/`w3(context)` answer the
workload's boolean flag; Pennon also has `w4` (ten typed getters, one request) and `w4_all`
(evaluate_all over the same flags). Each uses the SDK's fastest documented in-process call
(README.md says which). Peer packages are imported inside their factory, so the Pennon
process (run with the repository's .venv) never needs them, and vice versa.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
WORKLOADS = HERE.parent / "workloads"
BUILD = HERE.parent / ".build"

Context = Any
Evaluate = Callable[[Context], Any]


def workload(name: str) -> str:
    return (WORKLOADS / name).read_text(encoding="utf-8")


@dataclass
class Engine:
    version: str
    context: Callable[[dict], Context]
    w1: Evaluate
    w2: Evaluate | None = None
    w3: Evaluate | None = None
    w4: Evaluate | None = None
    w4_values: Callable[[Context], dict] | None = None
    w4_all: Evaluate | None = None
    w4_all_values: Callable[[Context], dict] | None = None
    cannot_express: list[str] = field(default_factory=list)
    close: Callable[[], None] = lambda: None


def pennon_context(user: dict) -> dict:
    """Pennon's (and OpenFeature's) context: the user id is the targeting key."""
    attributes = dict(user)
    return {"targetingKey": attributes.pop("userId"), **attributes}


def pennon() -> Engine:
    import pennon as pennon_package

    engine = pennon_package.Engine()
    engine.load(workload("pennon.json"))  # W1-W3
    w4_engine = pennon_package.Engine()
    w4_engine.load(workload("pennon-w4.json"))  # exactly the ten flags of W4
    get_boolean, get_string, get_number = w4_engine.get_boolean, w4_engine.get_string, w4_engine.get_number

    def w4(c: dict) -> float:
        return (
            get_boolean("w4.static-bool", c, False)
            + get_boolean("w4.static-off", c, False)
            + len(get_string("w4.static-string", c, ""))
            + get_number("w4.static-number", c, 0)
            + get_boolean("w4.eu-pro", c, False)
            + len(get_string("w4.region", c, ""))
            + get_number("w4.plan-quota", c, 0)
            + get_boolean("w4.rollout-bool", c, False)
            + len(get_string("w4.split-string", c, ""))
            + get_number("w4.rollout-number", c, 0)
        )

    def w4_values(c: dict) -> dict:
        return {
            "w4.static-bool": get_boolean("w4.static-bool", c, False),
            "w4.static-off": get_boolean("w4.static-off", c, True),
            "w4.static-string": get_string("w4.static-string", c, ""),
            "w4.static-number": get_number("w4.static-number", c, 0),
            "w4.eu-pro": get_boolean("w4.eu-pro", c, False),
            "w4.region": get_string("w4.region", c, ""),
            "w4.plan-quota": get_number("w4.plan-quota", c, 0),
            "w4.rollout-bool": get_boolean("w4.rollout-bool", c, False),
            "w4.split-string": get_string("w4.split-string", c, ""),
            "w4.rollout-number": get_number("w4.rollout-number", c, 0),
        }

    evaluate_all = w4_engine.evaluate_all
    w123 = engine.get_boolean
    return Engine(
        version=pennon_package.__version__,
        context=pennon_context,
        w1=lambda c: w123("w1", c, False),
        w2=lambda c: w123("w2", c, False),
        w3=lambda c: w123("w3", c, False),
        w4=w4,
        w4_values=w4_values,
        w4_all=lambda c: len(evaluate_all(c)),
        w4_all_values=lambda c: {key: r["value"] for key, r in evaluate_all(c).items()},
    )


def flagd_core() -> Engine:
    from openfeature.contrib.tools.flagd.core import FlagdCore
    from openfeature.evaluation_context import EvaluationContext

    core = FlagdCore()
    core.set_flags(workload("flagd.json"))
    resolve = core.resolve_boolean_value

    def context(user: dict) -> EvaluationContext:
        attributes = dict(user)
        return EvaluationContext(targeting_key=attributes.pop("userId"), attributes=attributes)

    return Engine(
        version=metadata.version("openfeature-flagd-core"),
        context=context,
        w1=lambda c: resolve("w1", False, c).value,
        w2=lambda c: resolve("w2", False, c).value,
        w3=lambda c: resolve("w3", False, c).value,
    )


def growthbook() -> Engine:
    """The synchronous GrowthBook class: a context is passed by set_attributes, then is_on.
    (The multi-user GrowthBookClient of the Python SDK is asyncio-only.)"""
    from growthbook import GrowthBook

    gb = GrowthBook(features=json.loads(workload("growthbook.json"))["features"])
    set_attributes, is_on = gb.set_attributes, gb.is_on

    def evaluate(key: str) -> Evaluate:
        def run(c: dict) -> bool:
            set_attributes(c)
            return is_on(key)

        return run

    def context(user: dict) -> dict:
        attributes = dict(user)
        return {"id": attributes.pop("userId"), **attributes}

    return Engine(
        version=metadata.version("growthbook"),
        context=context,
        w1=evaluate("w1"),
        w2=evaluate("w2"),
        w3=evaluate("w3"),
        close=gb.destroy,
    )


def unleash() -> Engine:
    """UnleashClient bootstrapped from a toggles document into its cache, started with
    fetch_toggles=False (no polling), registration and metrics off."""
    from UnleashClient import UnleashClient
    from UnleashClient.cache import FileCache

    cache_dir = tempfile.mkdtemp(prefix="pennon-peers-unleash-")
    cache = FileCache("pennon-peers-bench", directory=cache_dir)
    cache.bootstrap_from_dict(json.loads(workload("unleash.json")))
    client = UnleashClient(
        url="http://127.0.0.1:9",  # never contacted: fetch_toggles=False, registration and metrics off
        app_name="pennon-peers-bench",
        disable_metrics=True,
        disable_registration=True,
        cache=cache,
    )
    client.initialize_client(fetch_toggles=False)
    is_enabled = client.is_enabled

    def context(user: dict) -> dict:
        attributes = dict(user)
        user_id = attributes.pop("userId")
        # Unleash context fields are strings; custom fields go in `properties`.
        return {"userId": user_id, "properties": {k: str(v) for k, v in attributes.items()}}

    return Engine(
        version=metadata.version("UnleashClient"),
        context=context,
        w1=lambda c: is_enabled("w1", c),
        w2=lambda c: is_enabled("w2", c),
        w3=lambda c: is_enabled("w3", c),
        close=client.destroy,
    )


def flipt() -> Engine:
    """Flipt's client SDK (a Rust engine over ctypes), seeded with the snapshot that
    run.mjs makes from workloads/flipt.json with the JS SDK (`.build/flipt-snapshot.b64`),
    with ErrorStrategy.FALLBACK: the documented way to start without a Flipt server."""
    # The engine captures a backtrace when its first fetch fails, and with RUST_BACKTRACE=1
    # in the environment the unwinder of the prebuilt library aborts the process (SIGABRT).
    os.environ["RUST_LIB_BACKTRACE"] = "0"
    from flipt_client import FliptClient
    from flipt_client.models import ClientOptions, ErrorStrategy

    snapshot = (BUILD / "flipt-snapshot.b64").read_text(encoding="ascii")
    json.loads(base64.b64decode(snapshot))  # fail early on a damaged file
    client = FliptClient(
        ClientOptions(
            # Not HTTP, so the initial fetch fails at once without any connection attempt
            # (an http:// URL is retried with back-off for ~6 s before the fallback).
            url="file:///dev/null",
            snapshot=snapshot,
            error_strategy=ErrorStrategy.FALLBACK,
            update_interval=24 * 3600,
        )
    )
    evaluate_boolean = client.evaluate_boolean

    def context(user: dict) -> tuple[str, dict]:
        attributes = dict(user)
        return attributes.pop("userId"), {k: str(v) for k, v in attributes.items()}

    return Engine(
        version=metadata.version("flipt-client"),
        context=context,
        w1=lambda c: evaluate_boolean("w1", c[0], c[1]).enabled,
        w2=lambda c: evaluate_boolean("w2", c[0], c[1]).enabled,
        w3=lambda c: evaluate_boolean("w3", c[0], c[1]).enabled,
        cannot_express=["appVersion"],
        close=client.close,
    )


def baseline() -> Engine:
    """Not an engine: the harness loop calling a function that returns True."""
    return Engine(version="-", context=lambda user: user, w1=lambda c: c is not None)


ENGINES: dict[str, Callable[[], Engine]] = {
    "pennon-python": pennon,
    "flagd-core": flagd_core,
    "growthbook": growthbook,
    "unleash": unleash,
    "flipt": flipt,
    "baseline": baseline,
}
