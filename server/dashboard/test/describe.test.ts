import assert from "node:assert/strict";
import { test } from "node:test";
import type { CohortStanding, FlagDefinition, FlagEntry, RolloutView, Standing } from "../src/api.ts";
import { attributeName, canaryText, conditionText, durationText, rolloutSummary, serveText, targetText, valueList } from "../src/describe.ts";

test("a rule of the example flags reads as a sentence", () => {
  assert.equal(
    conditionText({
      all: [
        { attribute: "country", op: "in", values: ["US", "GB", "DE"] },
        { attribute: "appVersion", op: "semverGte", value: "5.3.0" },
      ],
    }),
    'country is "US", "GB" or "DE" and appVersion is version 5.3.0 or later',
  );
});

test("nested groups get parentheses; not and segments read naturally", () => {
  assert.equal(
    conditionText({
      any: [
        { all: [{ attribute: "betaOptIn", op: "equals", value: true }, { not: { inSegment: "blocked-networks" } }] },
        { attribute: "email", op: "endsWith", value: "@kestrel.example", caseInsensitive: true },
      ],
    }),
    '(betaOptIn is true and not in segment "blocked-networks") or email ends with "@kestrel.example" (ignoring case)',
  );
  assert.equal(conditionText({ not: { attribute: "plan", op: "exists" } }), "not plan is set");
});

test("every operator has words", () => {
  const cases: [string, unknown, string][] = [
    ["notIn", ["a", "b"], 'x is neither "a" nor "b"'],
    ["lt", 5, "x is less than 5"],
    ["gte", 5, "x is at least 5"],
    ["semverLt", "5.2", "x is a version before 5.2"],
    ["matches", "^a.*z$", "x matches the pattern /^a.*z$/"],
    ["inCidr", ["10.0.0.0/8"], 'x is an address in "10.0.0.0/8"'],
    ["missing", undefined, "x is not set"],
    ["before", "2026-12-01T00:00:00Z", "x is before 2026-12-01T00:00:00Z"],
    ["newOp", 1, "x newOp 1"],
  ];
  for (const [op, operand, text] of cases) {
    const condition = Array.isArray(operand) ? { attribute: "x", op, values: operand } : { attribute: "x", op, value: operand as string };
    assert.equal(conditionText(condition), text);
  }
});

test("empty groups, pointers, long lists", () => {
  assert.equal(conditionText({ all: [] }), "always");
  assert.equal(conditionText({ any: [] }), "never");
  assert.equal(attributeName("/address/country"), "address.country");
  assert.equal(attributeName("/a~1b/c~0d"), "a/b.c~d");
  assert.equal(valueList(Array.from({ length: 12 }, (_, i) => i)), "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more");
});

test("serves, targets and durations", () => {
  assert.equal(serveText({ variant: "on" }), 'serve "on"');
  assert.equal(
    serveText({ rollout: { variant: "on", otherwise: "off", percentage: 50 } }),
    'serve "on" to 50%, "off" to the rest',
  );
  assert.equal(
    serveText({ split: { variants: [{ variant: "a", weight: 60 }, { variant: "b", weight: 40 }] } }),
    'split "a" 60%, "b" 40%',
  );
  assert.equal(targetText({ variant: "on", users: ["u-1"], groups: ["staff", "qa"] }), 'users u-1; groups staff, qa get "on"');
  assert.equal(durationText("PT1H30M"), "1 h 30 min");
  assert.equal(durationText("P2D"), "2 d");
  assert.equal(durationText("soon"), "soon");
});

const flag = (extra: Partial<FlagDefinition>, standing?: Standing): FlagEntry => ({
  key: "f",
  revision: 1,
  updatedAt: "2026-01-01T00:00:00Z",
  updatedBy: "alice",
  definition: { type: "boolean", variants: { on: true, off: false }, state: "on", offVariant: "off", fallthrough: { variant: "on" }, ...extra },
  standing,
});
const stood = (percentage: number, more: Partial<CohortStanding> = {}): CohortStanding => ({
  percentage,
  stage: null,
  stages: null,
  paused: false,
  ramping: false,
  ...more,
});

test("the Rollout column prefers a rollout in progress, then says where core puts the cohorts now", () => {
  const rollout = { status: "running", stage: 2, stages: 4, percentage: 30 } as RolloutView;
  const canary = (standing: CohortStanding) => flag({ state: "canary", canary: { percentage: 5 } }, { canary: standing, fallthrough: null });
  assert.equal(rolloutSummary(canary(stood(5)), rollout), "stage 2/4 · 30%");
  assert.equal(rolloutSummary(canary(stood(5)), { ...rollout, status: "paused" }), "stage 2/4 · 30% (paused)");
  assert.equal(rolloutSummary(canary(stood(5)), { ...rollout, status: "completed" }), "canary 5%");
  assert.equal(rolloutSummary(canary(stood(0, { stages: 3 }))), "canary not started (3 stages)");
  assert.equal(rolloutSummary(canary(stood(30, { stage: 1, stages: 3 }))), "canary stage 2/3 · 30%");
  assert.equal(rolloutSummary(canary(stood(10, { stage: 0, stages: 3, paused: true }))), "canary stage 1/3 · 10% (paused)");
  const rolled = { fallthrough: { rollout: { variant: "on", otherwise: "off", percentage: 25 } } };
  const at25 = { canary: null, fallthrough: stood(25) };
  assert.equal(rolloutSummary(flag(rolled, { canary: null, fallthrough: stood(37.5, { ramping: true }) })), "37.5% (ramping)");
  assert.equal(rolloutSummary(flag({ state: "kill", canary: { percentage: 20 } }, { canary: stood(20), fallthrough: null })), "—");
  assert.equal(rolloutSummary(flag({ state: "off", ...rolled }, at25)), "—");
  assert.equal(rolloutSummary(flag({ state: "shadow", ...rolled }, at25)), "shadow 25%");
  assert.equal(rolloutSummary(flag(rolled, at25)), "25%");
  assert.equal(rolloutSummary(flag(rolled)), "?", "a server without standing: no guess");
  assert.equal(rolloutSummary(flag({})), "—");
});

test("the canary gate in words, with where it stands", () => {
  const progressive = { start: "2026-01-01T00:00:00Z", stages: [{ percentage: 10, duration: "PT1H" }, { percentage: 100 }] };
  assert.equal(
    canaryText({ progressive, bucketBy: "tenant" }, "off", stood(10, { stage: 0, stages: 2 })),
    'the on path for stages 10% for 1 h → 100% (by tenant), now stage 1/2 · 10%; everyone else gets "off"',
  );
  assert.equal(canaryText({ percentage: 5 }, "control", stood(5)), 'the on path for 5%, now 5%; everyone else gets "control"');
});
