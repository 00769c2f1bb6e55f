// How the rollout and experiment pages write numbers: rates, milliseconds, counts,
// lifts, intervals and p-values. Pure and locale-independent (digits grouped with
// commas), so tests and screenshots read the same everywhere. Missing values are "—".

const MISSING = "—";
const MINUS = "\u2212";

const counts = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function ok(value: number | null | undefined): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** A count of requests, exposures or conversions: "12,345". */
export function formatCount(value: number | null | undefined): string {
  return ok(value) ? counts.format(value) : MISSING;
}

/** A proportion as a percentage: 0.0612 → "6.12 %". */
export function formatRate(value: number | null | undefined, digits = 2): string {
  return ok(value) ? `${(value * 100).toFixed(digits)} %` : MISSING;
}

/** Milliseconds: 227.4 → "227 ms", 8.25 → "8.3 ms", 1234.5 → "1,235 ms". */
export function formatMs(value: number | null | undefined): string {
  if (!ok(value)) return MISSING;
  return Math.abs(value) < 10 ? `${value.toFixed(1)} ms` : `${counts.format(Math.round(value))} ms`;
}

/** A signed relative change: 0.24 → "+24.0 %", −0.031 → "−3.1 %". */
export function formatSignedRate(value: number | null | undefined, digits = 1): string {
  if (!ok(value)) return MISSING;
  const text = (Math.abs(value) * 100).toFixed(digits);
  if (Number(text) === 0) return `${text} %`;
  return `${value < 0 ? MINUS : "+"}${text} %`;
}

/** An interval of relative changes: [−0.012, 0.452] → "[−1.2 %, +45.2 %]". */
export function formatInterval(interval: readonly (number | null)[] | null | undefined, digits = 1): string {
  if (!interval || interval.length !== 2 || !ok(interval[0]) || !ok(interval[1])) return MISSING;
  return `[${formatSignedRate(interval[0], digits)}, ${formatSignedRate(interval[1], digits)}]`;
}

/** A p-value: "0.042", "0.00042", "1.3e−7" below 0.0001, "1" for 1. */
export function formatPValue(value: number | null | undefined): string {
  if (!ok(value)) return MISSING;
  if (value >= 1) return "1";
  if (value === 0) return "0";
  if (value < 0.0001) return value.toExponential(1).replace("-", MINUS);
  return value < 0.001 ? value.toPrecision(2) : value.toFixed(3);
}

/** Requests per cohort: "1,000 / 9,000". */
export function formatRequests(canary: number | null | undefined, control: number | null | undefined): string {
  return `${formatCount(canary)} / ${formatCount(control)}`;
}

/** A machine word as people read it: "not_enough_data" → "not enough data". */
export function words(value: string | null | undefined): string {
  return value ? value.replace(/_/g, " ") : MISSING;
}

/** A stage percentage: 12.5 → "12.5 %", 50 → "50 %". */
export function formatPercentage(value: number | null | undefined): string {
  return ok(value) ? `${Number(value.toFixed(2))} %` : MISSING;
}
