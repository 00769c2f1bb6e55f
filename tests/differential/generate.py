#!/usr/bin/env python3
"""Generates differential-test requests (docs/bindings.md, "Differential mode").

Deterministic for a given seed. Snapshots are the example snapshot, the shared conformance
snapshots and every inline snapshot of the conformance cases (written under OUT_DIR so that
every runner can load them by path). Contexts mix the attributes the snapshot's conditions
read (so rules really match and miss), values of every JSON type, non-ASCII and empty
strings, missing fields, and a few contexts that must be rejected alike everywhere (not an
object, nested deeper than 64 levels); times sit on and around every timestamp the snapshot mentions
(stage boundaries, windows, expiries: exactly at, 1 ms before, 1 ms after).

usage: generate.py OUT_DIR [--count N] [--seed S]  → writes OUT_DIR/requests.jsonl
"""
import argparse
import datetime
import glob
import json
import os
import random
import re

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|z|[+-]\d{2}:\d{2})$")
DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")

STRINGS = ["", "a", "DE", "US", "enterprise", "free", "Jürgen", "用户", "🚀 launch", "ÄÖÜ", "x" * 300,
           "10.1.2.3", "::ffff:10.0.0.1", "2001:db8::1", "not-an-ip", "1.2.3", "2.0.0-rc.1", "v1.0", "banana",
           "2026-11-22T00:00:00Z", "2026-13-01T00:00:00Z", "user@Example.COM", "tab\there", "quote\"s", "ß", "İ"]
NUMBERS = [0, 1, -1, 2, 3, 17, 18, 42, 99, 100, 1.5, 0.25, -7.5, 1795305600000, 9007199254740992, 12.125]


def parse_time(text):
    try:
        return int(datetime.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def duration_ms(text):
    m = DURATION.match(text)
    if not m or not any(m.groups()):
        return None
    w, d, h, mi, s = (float(g) if g else 0 for g in m.groups())
    return int(((((w * 7 + d) * 24 + h) * 60 + mi) * 60 + s) * 1000)


def walk(node, visit):
    visit(node)
    if isinstance(node, dict):
        for value in node.values():
            walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            walk(value, visit)


def snapshot_facts(snapshot):
    """Attributes read by conditions, operand values, and interesting instants."""
    attributes, operands, instants = set(), [], set()

    def visit(node):
        if isinstance(node, dict):
            if isinstance(node.get("attribute"), str):
                attributes.add(node["attribute"])
                if "value" in node:
                    operands.append((node["attribute"], node["value"]))
                for value in node.get("values", []) if isinstance(node.get("values"), list) else []:
                    operands.append((node["attribute"], value))
            if isinstance(node.get("bucketBy"), str):
                attributes.add(node["bucketBy"])
            progressive = node.get("progressive")
            if isinstance(progressive, dict) and isinstance(progressive.get("start"), str):
                start = parse_time(progressive["start"])
                if start is not None:
                    t = start
                    instants.add(t)
                    for stage in progressive.get("stages", []) if isinstance(progressive.get("stages"), list) else []:
                        ms = duration_ms(stage.get("duration", "")) if isinstance(stage, dict) and isinstance(stage.get("duration"), str) else None
                        if ms:
                            t += ms
                            instants.add(t)
        elif isinstance(node, str) and RFC3339.match(node):
            t = parse_time(node)
            if t is not None:
                instants.add(t)

    walk(snapshot, visit)
    return sorted(attributes), operands, sorted(instants)


def random_scalar(rng):
    kind = rng.random()
    if kind < 0.5:
        return rng.choice(STRINGS)
    if kind < 0.8:
        return rng.choice(NUMBERS)
    if kind < 0.9:
        return rng.choice([True, False])
    return None


def random_value(rng, operands_for_attribute):
    roll = rng.random()
    if operands_for_attribute and roll < 0.45:
        value = rng.choice(operands_for_attribute)
        if isinstance(value, str) and rng.random() < 0.2:
            value = value.upper() if rng.random() < 0.5 else value.lower()
        return value
    if roll < 0.85:
        return random_scalar(rng)
    if roll < 0.95:
        return [random_scalar(rng) for _ in range(rng.randrange(0, 4))]
    return {"nested": random_scalar(rng)}


def set_attribute(context, attribute, value):
    if attribute.startswith("/"):
        parts = [p.replace("~1", "/").replace("~0", "~") for p in attribute[1:].split("/")]
        node = context
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    else:
        context[attribute] = value


def random_context(rng, attributes, operands):
    by_attribute = {}
    for attribute, value in operands:
        by_attribute.setdefault(attribute, []).append(value)
    context = {}
    key_roll = rng.random()
    if key_roll < 0.8:
        context["targetingKey"] = rng.choice([f"user-{rng.randrange(100000)}", f"Ünït-{rng.randrange(1000)}", "",
                                              f"用户{rng.randrange(100)}"])
    elif key_roll < 0.87:
        context["targetingKey"] = rng.choice([42, 7, -3, 1.5, True])
    for attribute in attributes:
        if attribute == "targetingKey" or rng.random() < 0.25:
            continue
        set_attribute(context, attribute, random_value(rng, by_attribute.get(attribute)))
    for name in ("tenant", "groups"):
        if rng.random() < 0.3 and name not in context:
            pool = [v for v in by_attribute.get(name, []) if isinstance(v, str)] or ["acme", "globex", "kestrel"]
            context[name] = rng.choice(pool) if name == "tenant" else rng.sample(pool + ["qa", "staff"], k=rng.randrange(0, 3))
    return context


def default_for(rng, flag_type):
    return {
        "boolean": lambda: rng.choice([True, False]),
        "string": lambda: rng.choice(["fallback", "默认", ""]),
        "number": lambda: rng.choice([0, -1, 2.5]),
        "object": lambda: {"fallback": True},
        "any": lambda: None,
    }.get(flag_type, lambda: None)()


def load_sources(out_dir):
    sources = []
    for path in [os.path.join(ROOT, "examples", "flags.json")] + sorted(glob.glob(os.path.join(ROOT, "tests", "conformance", "snapshots", "*.json"))):
        with open(path, encoding="utf-8") as f:
            snapshot = json.load(f)
        if isinstance(snapshot, dict):
            sources.append((os.path.relpath(path, ROOT), snapshot, []))
    inline_dir = os.path.join(out_dir, "snapshots")
    os.makedirs(inline_dir, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "conformance", "cases", "*.json"))):
        with open(path, encoding="utf-8") as f:
            case_file = json.load(f)
        snapshot = case_file.get("snapshot")
        if not isinstance(snapshot, dict) or "error" in (case_file.get("load") or {}):
            continue
        target = os.path.join(inline_dir, os.path.basename(path))
        with open(target, "w", encoding="utf-8") as f:
            json.dump(snapshot, f, ensure_ascii=False)
        nows = [case_file["now"]] if isinstance(case_file.get("now"), int) else []
        nows += [c["now"] for c in case_file.get("cases", []) if isinstance(c.get("now"), int)]
        sources.append((os.path.relpath(target, ROOT), snapshot, nows))
    return sources


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--count", type=int, default=12000)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sources = load_sources(args.out_dir)
    prepared = []
    for path, snapshot, nows in sources:
        flags = snapshot.get("flags") if isinstance(snapshot.get("flags"), dict) else {}
        attributes, operands, instants = snapshot_facts(snapshot)
        instants = sorted(set(instants) | set(nows)) or [1795305600000]
        prepared.append((path, flags, attributes, operands, instants))
    with open(os.path.join(args.out_dir, "requests.jsonl"), "w", encoding="utf-8") as out:
        for i in range(args.count):
            path, flags, attributes, operands, instants = prepared[i % len(prepared)]
            keys = sorted(flags)
            flag = rng.choice(keys) if keys and rng.random() < 0.97 else "no-such-flag"
            declared = flags.get(flag, {}).get("type") if isinstance(flags.get(flag), dict) else None
            flag_type = declared if declared in ("boolean", "string", "number", "object") and rng.random() < 0.7 else \
                rng.choice(["boolean", "string", "number", "object", "any"])
            now = rng.choice(instants) + rng.choice([0, 0, -1, 1, rng.randrange(-86_400_000, 86_400_000)])
            context = random_context(rng, attributes, operands)
            roll = rng.random()
            if roll < 0.005:
                # Contexts every binding must reject the same way (core's INVALID_CONTEXT wording).
                context = rng.choice([[], "user-1", 42, None, [{"targetingKey": "u"}]])
            elif roll < 0.015:
                deep = {"leaf": 1}
                for _ in range(rng.choice([62, 63, 64, 70])):
                    deep = {"d": deep}
                context["deep"] = deep
            if rng.random() < 0.005:
                # Arguments every binding must refuse alike: the same error object (code,
                # message, path) everywhere.
                flag_type = rng.choice(["Boolean", "bool", "", "json", "any "])
            request = {"snapshot": path, "flag": flag, "context": context,
                       "type": flag_type, "default": default_for(rng, flag_type), "now": now}
            out.write(json.dumps(request, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"wrote {args.count} requests over {len(prepared)} snapshots to {args.out_dir}/requests.jsonl")


if __name__ == "__main__":
    main()
