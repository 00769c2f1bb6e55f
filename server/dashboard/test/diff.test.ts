import assert from "node:assert/strict";
import { test } from "node:test";
import { jsonDiff, shortJson } from "../src/diff.ts";

test("nothing changed, nothing listed", () => {
  assert.deepEqual(jsonDiff({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), []);
});

test("added, removed and changed fields by path", () => {
  assert.deepEqual(jsonDiff({ state: "on", variants: { on: true } }, { state: "kill", variants: { on: true, "odd key": 1 } }), [
    { kind: "changed", path: "state", before: "on", after: "kill" },
    { kind: "added", path: 'variants["odd key"]', after: 1 },
  ]);
  assert.deepEqual(jsonDiff({ a: 1, b: 2 }, { a: 1 }), [{ kind: "removed", path: "b", before: 2 }]);
});

test("arrays by index; rules by id, with reordering noted", () => {
  assert.deepEqual(jsonDiff({ tags: ["a", "b"] }, { tags: ["a", "c", "d"] }), [
    { kind: "changed", path: "tags[1]", before: "b", after: "c" },
    { kind: "added", path: "tags[2]", after: "d" },
  ]);
  const r1 = { id: "one", serve: { variant: "on" } };
  const r2 = { id: "two", serve: { variant: "off" } };
  const r0 = { id: "zero", serve: { variant: "on" } };
  assert.deepEqual(jsonDiff({ rules: [r1, r2] }, { rules: [r0, r1, r2] }), [{ kind: "added", path: "rules[id=zero]", after: r0 }]);
  assert.deepEqual(jsonDiff({ rules: [r1, r2] }, { rules: [r2, { ...r1, serve: { variant: "off" } }] }), [
    { kind: "changed", path: "rules[id=one].serve.variant", before: "on", after: "off" },
    { kind: "changed", path: "rules (order)", before: ["one", "two"], after: ["two", "one"] },
  ]);
});

test("a whole value appearing or disappearing, and type changes", () => {
  assert.deepEqual(jsonDiff(undefined, { a: 1 }), [{ kind: "added", path: "", after: { a: 1 } }]);
  assert.deepEqual(jsonDiff({ a: 1 }, undefined), [{ kind: "removed", path: "", before: { a: 1 } }]);
  assert.deepEqual(jsonDiff({ a: [1] }, { a: { 0: 1 } }), [{ kind: "changed", path: "a", before: [1], after: { 0: 1 } }]);
});

test("shortJson shortens", () => {
  assert.equal(shortJson("x".repeat(10), 8), '"xxxxxx…');
  assert.equal(shortJson(undefined), "undefined");
});
