// Unit tests of the experiment page's pure module: rows, interval scale, SRM text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { intervalDomain, mismatchText, noExposures, scale, variantRows, type ExperimentResults } from "../src/charts/experiment.ts";

function results(mismatch: boolean): ExperimentResults {
  return {
    environment: "production",
    flag: "checkout.new",
    from: "2026-12-06T10:00:00Z",
    to: "2026-12-06T11:00:00Z",
    control: "off",
    alpha: 0.05,
    variants: [
      {
        variant: "on", exposures: 10000, conversions: 620, rate: 0.062, weight: 0.5, observedShare: 0.5, control: false,
        difference: { estimate: 0.012, standardError: 0.003, interval: [0.003, 0.021], pValue: 0.004 },
        lift: { estimate: 0.24, standardError: 0.07, interval: [0.05, 0.43], pValue: 0.0042 },
      },
      { variant: "off", exposures: 10000, conversions: 500, rate: 0.05, weight: 0.5, observedShare: 0.5, control: true },
      { variant: "blue", exposures: 0, conversions: 0, rate: 0, weight: 0, observedShare: 0, control: false, difference: null, lift: null },
    ],
    sampleRatio: { chi2: mismatch ? 111.1 : 0, degreesOfFreedom: 2, pValue: mismatch ? 1e-20 : 1, threshold: 0.001, mismatch },
    warnings: [],
  };
}

test("rows: the control first and marked, lifts with intervals and p-values written out", () => {
  const rows = variantRows(results(false));
  assert.deepEqual(
    rows.map((row) => [row.variant, row.exposures, row.conversions, row.rate, row.lift, row.interval, row.pValue]),
    [
      ["off", "10,000", "500", "5.00 %", "control", "—", "—"],
      ["on", "10,000", "620", "6.20 %", "+24.0 %", "[+5.0 %, +43.0 %]", "0.004"],
      ["blue", "0", "0", "—", "—", "—", "—"],
    ],
  );
  assert.deepEqual(rows[1]?.bounds, [0.05, 0.43]);
  assert.equal(rows[0]?.bounds, null);
  assert.equal(rows[2]?.estimate, null);
});

test("the interval plot's scale holds every interval and zero", () => {
  const rows = variantRows(results(false));
  const [low, high] = intervalDomain(rows);
  assert.ok(low < 0 && low >= -0.03, `low ${low}`);
  assert.ok(high > 0.43 && high < 0.5, `high ${high}`);
  const x = scale([-0.1, 0.3], 400);
  assert.equal(x(-0.1), 0);
  assert.equal(x(0.3), 400);
  assert.ok(Math.abs(x(0) - 100) < 1e-9);
  assert.deepEqual(intervalDomain([]), [-0.01, 0.01]);
});

test("no exposures at all is told apart from some", () => {
  const empty = results(false);
  assert.equal(noExposures(empty), false);
  empty.variants = empty.variants.map((variant) => ({ ...variant, exposures: 0, conversions: 0 }));
  assert.equal(noExposures(empty), true);
});

test("the sample-ratio warning only on a mismatch", () => {
  assert.equal(mismatchText(results(false)), null);
  assert.match(mismatchText(results(true)) ?? "", /^Sample ratio mismatch: .*χ² = 111\.1, p = 1\.0e\u221220 < 0\.001/);
  assert.equal(mismatchText({ ...results(false), sampleRatio: null }), null);
});
