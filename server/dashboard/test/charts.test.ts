// Unit tests of the rollout charts' pure modules: series → chart data, thresholds,
// stage bands, decisions, formatting and which actions are enabled.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  aboveThreshold,
  axisEnd,
  chartData,
  decisions,
  isActive,
  latestPoint,
  stageBands,
  stageNumber,
  thresholdNames,
  type RolloutSeries,
  type SeriesPoint,
} from "../src/charts/series.ts";
import {
  formatCount,
  formatInterval,
  formatMs,
  formatPValue,
  formatPercentage,
  formatRate,
  formatRequests,
  formatSignedRate,
  words,
} from "../src/charts/format.ts";
import { actionPath, enabledActions } from "../src/charts/controls.ts";

function point(at: string, canaryRate: number, overrides: Partial<SeriesPoint> = {}): SeriesPoint {
  return {
    at,
    stage: 0,
    percentage: 10,
    verdict: "healthy",
    canary: { requests: 120, errors: 6, errorRate: canaryRate, p95: 240 },
    control: { requests: 1100, errors: 11, errorRate: 0.01, p95: 200 },
    thresholds: { errorRate: 0.015, maxErrorRate: 0.2, p95: 700 },
    ...overrides,
  };
}

function series(points: SeriesPoint[], extra: Partial<RolloutSeries> = {}): RolloutSeries {
  return {
    flag: "checkout.new",
    environment: "production",
    id: "r1",
    state: "running",
    startedAt: "2026-12-06T11:00:00Z",
    endedAt: null,
    stages: [
      { index: 0, percentage: 10, startedAt: "2026-12-06T11:00:00Z", endedAt: "2026-12-06T11:00:20Z" },
      { index: 1, percentage: 50, startedAt: "2026-12-06T11:00:20Z", endedAt: null },
      { index: 2, percentage: 100, startedAt: null, endedAt: null },
    ],
    points,
    events: [],
    ...extra,
  };
}

const T0 = Date.parse("2026-12-06T11:00:00Z") / 1000;

test("chart data: times in seconds, sorted, canary, control and each threshold line", () => {
  const data = chartData(
    series([point("2026-12-06T11:00:10Z", 0.05), point("2026-12-06T11:00:00Z", 0.02), point("not a time", 0.5)]),
    "errorRate",
  );
  assert.deepEqual(data, [
    [T0, T0 + 10],
    [0.02, 0.05],
    [0.01, 0.01],
    [0.015, 0.015],
    [0.2, 0.2],
  ]);
  const latency = chartData(series([point("2026-12-06T11:00:00Z", 0.02)]), "p95");
  assert.deepEqual(latency, [[T0], [240], [200], [700]]);
});

test("chart data: a missing value is a gap, and only thresholds that exist get a line", () => {
  const noGuard = { errorRate: 0.015, maxErrorRate: null, p95: null };
  const s = series([
    point("2026-12-06T11:00:00Z", 0.02, { thresholds: noGuard, canary: { requests: 0, errors: 0, errorRate: 0, p95: null } }),
    point("2026-12-06T11:00:10Z", 0.03, { thresholds: { errorRate: null, maxErrorRate: null, p95: 650 } }),
  ]);
  assert.deepEqual(thresholdNames(s, "errorRate"), ["threshold"]);
  assert.deepEqual(chartData(s, "errorRate"), [
    [T0, T0 + 10],
    [0, 0.03],
    [0.01, 0.01],
    [0.015, null],
  ]);
  assert.deepEqual(chartData(s, "p95"), [
    [T0, T0 + 10],
    [null, 240],
    [200, 200],
    [null, 650],
  ]);
  const none = series([point("2026-12-06T11:00:00Z", 0.02, { thresholds: { errorRate: null, maxErrorRate: null, p95: null } })]);
  assert.deepEqual(thresholdNames(none, "p95"), []);
  assert.equal(chartData(none, "p95").length, 3);
});

test("above threshold: the canary above its line, or above the guard; not at or below", () => {
  assert.equal(aboveThreshold(point("2026-12-06T11:00:00Z", 0.012), "errorRate"), null);
  assert.equal(aboveThreshold(point("2026-12-06T11:00:00Z", 0.015), "errorRate"), null);
  assert.deepEqual(aboveThreshold(point("2026-12-06T11:00:00Z", 0.05), "errorRate"), { name: "threshold", value: 0.015 });
  assert.deepEqual(aboveThreshold(point("2026-12-06T11:00:00Z", 0.25), "errorRate"), { name: "guard", value: 0.2 });
  const unknown = point("2026-12-06T11:00:00Z", 0.01, { canary: { requests: 0, errors: 0, errorRate: 0, p95: null } });
  assert.equal(aboveThreshold(unknown, "p95"), null);
  const slow = point("2026-12-06T11:00:00Z", 0.01, { canary: { requests: 1, errors: 0, errorRate: 0, p95: 900 } });
  assert.deepEqual(aboveThreshold(slow, "p95"), { name: "threshold", value: 700 });
  assert.equal(aboveThreshold(point("2026-12-06T11:00:00Z", 0.01), "p95"), null);
});

test("stage bands: begun stages only, the current one open to the newest time", () => {
  const s = series([point("2026-12-06T11:00:30Z", 0.01)], {
    events: [{ seq: 1, kind: "started", at: "2026-12-06T11:00:00Z" }],
  });
  assert.equal(axisEnd(s), T0 + 30);
  assert.deepEqual(stageBands(s), [
    { number: 1, percentage: 10, from: T0, to: T0 + 20, open: false },
    { number: 2, percentage: 50, from: T0 + 20, to: T0 + 30, open: true },
  ]);
  const ended = series([], { endedAt: "2026-12-06T11:01:00Z" });
  assert.equal(stageBands(ended)[1]?.to, T0 + 60);
  assert.equal(stageNumber(s, 1), 2);
  assert.equal(stageNumber(s, 7), 8);
});

test("decisions read both field spellings and come oldest first", () => {
  const list = decisions([
    { seq: 2, kind: "rolled_back", actor: "controller", stage: 2, percentage: 0, reason: "error rate", at: "2026-12-06T11:00:40Z" },
    { sequence: 1, action: "started", principal: "alice", stage: 1, percentage: 10, at: "2026-12-06T11:00:00Z" },
  ]);
  assert.deepEqual(
    list.map((d) => [d.seq, d.action, d.principal, d.stage, d.percentage, d.reason, d.t]),
    [
      [1, "started", "alice", 1, 10, null, T0],
      [2, "rolled_back", "controller", 2, 0, "error rate", T0 + 40],
    ],
  );
  assert.deepEqual(decisions([null, 3, { kind: "started" }]), []);
});

test("latest point and activity", () => {
  const s = series([point("2026-12-06T11:00:10Z", 0.2), point("2026-12-06T11:00:30Z", 0.3), point("2026-12-06T11:00:20Z", 0.4)]);
  assert.equal(latestPoint(s)?.canary.errorRate, 0.3);
  assert.equal(latestPoint(series([])), null);
  assert.ok(isActive("running") && isActive("paused") && isActive("awaiting_approval"));
  assert.ok(!isActive("completed") && !isActive("rolled_back") && !isActive("aborted") && !isActive("interrupted"));
});

test("formatting of rates, milliseconds, counts, lifts, intervals and p-values", () => {
  assert.equal(formatRate(0.0612), "6.12 %");
  assert.equal(formatRate(null), "—");
  assert.equal(formatMs(227.4), "227 ms");
  assert.equal(formatMs(8.25), "8.3 ms");
  assert.equal(formatMs(1234.5), "1,235 ms");
  assert.equal(formatCount(12345), "12,345");
  assert.equal(formatRequests(1000, 9000), "1,000 / 9,000");
  assert.equal(formatSignedRate(0.24), "+24.0 %");
  assert.equal(formatSignedRate(-0.031), "\u22123.1 %");
  assert.equal(formatSignedRate(0.00001), "0.0 %");
  assert.equal(formatInterval([-0.012, 0.452]), "[\u22121.2 %, +45.2 %]");
  assert.equal(formatInterval(null), "—");
  assert.equal(formatPValue(0.0421), "0.042");
  assert.equal(formatPValue(0.00042), "0.00042");
  assert.equal(formatPValue(1.31e-7), "1.3e\u22127");
  assert.equal(formatPValue(1), "1");
  assert.equal(formatPercentage(12.5), "12.5 %");
  assert.equal(words("not_enough_data"), "not enough data");
});

test("actions: by role, state and protection", () => {
  const none = { pause: false, resume: false, promote: false, abort: false };
  assert.deepEqual(enabledActions("running", "viewer", false), none);
  assert.deepEqual(enabledActions("running", "developer", false), { pause: true, resume: false, promote: true, abort: true });
  assert.deepEqual(enabledActions("paused", "developer", false), { pause: false, resume: true, promote: true, abort: true });
  assert.deepEqual(enabledActions("paused", "developer", true), { pause: false, resume: false, promote: false, abort: true });
  assert.deepEqual(enabledActions("paused", "admin", true), { pause: false, resume: true, promote: true, abort: true });
  assert.deepEqual(enabledActions("awaiting_approval", "admin", true), { pause: true, resume: false, promote: true, abort: true });
  for (const done of ["completed", "rolled_back", "aborted", "interrupted"]) assert.deepEqual(enabledActions(done, "admin", false), none);
  assert.equal(actionPath("prod env", "a/b", "abort"), "/api/v1/environments/prod%20env/rollouts/a%2Fb/abort");
});
