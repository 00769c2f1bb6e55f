import assert from "node:assert/strict";
import { test } from "node:test";
import type { FlagEntry, RolloutView } from "../src/api.ts";
import { allTags, filterFromParams, filterRows, filterToQuery, flagRows, noFilter, staleText } from "../src/filters.ts";

const entry = (key: string, state: string, metadata: Record<string, unknown>): FlagEntry =>
  ({
    key,
    revision: 1,
    updatedAt: "2026-12-06T11:00:00Z",
    updatedBy: "admin",
    definition: { type: "boolean", variants: { on: true, off: false }, state, offVariant: "off", fallthrough: { variant: "on" }, metadata },
  }) as FlagEntry;

const flags = [
  entry("search.new-ranker", "shadow", { owner: "search-relevance", tags: ["search"], description: "Neural ranker" }),
  entry("checkout.new-flow", "canary", { owner: "checkout-team", tags: ["checkout", "canary"] }),
  entry("payments.kill-switch", "on", { owner: "payments-oncall", tags: ["payments", "checkout"] }),
  entry("bare", "off", {}),
];
const rollouts = [
  { flag: "checkout.new-flow", status: "completed", startedAt: "2026-12-01T00:00:00Z", stage: 4, stages: 4, percentage: 100 },
  { flag: "checkout.new-flow", status: "running", startedAt: "2026-12-05T00:00:00Z", stage: 1, stages: 3, percentage: 10 },
] as RolloutView[];
const rows = flagRows(flags, rollouts, [{ key: "payments.kill-switch", reasons: ["past_remove_by"] }]);

test("rows are sorted, carry metadata, the newest rollout and the stale marker", () => {
  assert.deepEqual(rows.map((r) => r.key), ["bare", "checkout.new-flow", "payments.kill-switch", "search.new-ranker"]);
  const checkout = rows[1]!;
  assert.equal(checkout.rollout, "stage 1/3 · 10%");
  assert.equal(checkout.owner, "checkout-team");
  assert.deepEqual(rows[2]!.stale, ["past_remove_by"]);
  assert.equal(rows[0]!.owner, "");
  assert.deepEqual(rows[0]!.tags, []);
});

test("search matches key, description, owner and tags; every word must match", () => {
  const keys = (filter: Partial<typeof noFilter>) => filterRows(rows, { ...noFilter, ...filter }).map((r) => r.key);
  assert.deepEqual(keys({ q: "neural" }), ["search.new-ranker"]);
  assert.deepEqual(keys({ q: "CHECKOUT" }), ["checkout.new-flow", "payments.kill-switch"]);
  assert.deepEqual(keys({ q: "checkout oncall" }), ["payments.kill-switch"]);
  assert.deepEqual(keys({ state: "canary" }), ["checkout.new-flow"]);
  assert.deepEqual(keys({ tag: "checkout" }), ["checkout.new-flow", "payments.kill-switch"]);
  assert.deepEqual(keys({ staleOnly: true }), ["payments.kill-switch"]);
  assert.deepEqual(keys({}), rows.map((r) => r.key));
});

test("tags and the query round trip", () => {
  assert.deepEqual(allTags(rows), ["canary", "checkout", "payments", "search"]);
  const filter = { q: "pay", state: "on" as const, tag: "checkout", staleOnly: true };
  assert.deepEqual(filterFromParams(new URLSearchParams(filterToQuery(filter)), ["on"]), filter);
  assert.equal(filterFromParams(new URLSearchParams("state=bogus"), ["on"]).state, "");
  assert.equal(staleText(["past_remove_by", "something_else"]), "past its remove-by date, something else");
});
