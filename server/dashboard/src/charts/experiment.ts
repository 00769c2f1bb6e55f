// Experiment results (GET /api/v1/environments/{env}/experiments/{key}: core's
// `judgement::experiment` JSON plus environment, flag, from and to) as the experiment
// page shows them: one row per variant, the lift intervals' common scale, and the
// sample-ratio warning. Pure: the statistics are core's; nothing here recomputes them.

import { formatCount, formatInterval, formatPValue, formatRate, formatSignedRate } from "./format.ts";

export interface Comparison {
  estimate: number;
  standardError: number;
  interval: [number, number];
  pValue: number;
}

export interface ExperimentVariant {
  variant: string;
  exposures: number;
  conversions: number;
  rate: number;
  weight: number;
  observedShare: number;
  control: boolean;
  difference?: Comparison | null;
  lift?: Comparison | null;
}

export interface SampleRatio {
  chi2: number;
  degreesOfFreedom: number;
  pValue: number;
  threshold: number;
  mismatch: boolean;
}

export interface ExperimentResults {
  environment: string;
  flag: string;
  from: string;
  to: string;
  control: string;
  alpha: number;
  method?: string;
  variants: ExperimentVariant[];
  sampleRatio: SampleRatio | null;
  warnings: string[];
}

/** One row of the "Variants" table, written out. */
export interface VariantRow {
  variant: string;
  control: boolean;
  exposures: string;
  conversions: string;
  rate: string;
  lift: string;
  interval: string;
  pValue: string;
  /** The lift's interval as numbers, for the interval plot (null for the control or without one). */
  bounds: [number, number] | null;
  estimate: number | null;
}

/** The table's rows, the control first, then the others in the order core gave them. */
export function variantRows(results: ExperimentResults): VariantRow[] {
  const ordered = [...results.variants].sort((a, b) => Number(b.control) - Number(a.control));
  return ordered.map((variant) => {
    const lift = variant.control ? null : (variant.lift ?? null);
    const bounds =
      lift && lift.interval.every((value) => Number.isFinite(value)) ? ([lift.interval[0], lift.interval[1]] as [number, number]) : null;
    return {
      variant: variant.variant,
      control: variant.control,
      exposures: formatCount(variant.exposures),
      conversions: formatCount(variant.conversions),
      rate: variant.exposures > 0 ? formatRate(variant.rate) : "—",
      lift: variant.control ? "control" : formatSignedRate(lift?.estimate),
      interval: variant.control ? "—" : formatInterval(lift?.interval),
      pValue: variant.control ? "—" : formatPValue(lift?.pValue),
      bounds,
      estimate: lift && Number.isFinite(lift.estimate) ? lift.estimate : null,
    };
  });
}

/**
 * The common scale of the interval plot: a range that holds every interval and 0 (no
 * lift), widened by a twentieth on each side, at least ±1 %.
 */
export function intervalDomain(rows: VariantRow[]): [number, number] {
  let low = 0;
  let high = 0;
  for (const row of rows) {
    if (!row.bounds) continue;
    low = Math.min(low, row.bounds[0]);
    high = Math.max(high, row.bounds[1]);
  }
  const pad = Math.max((high - low) / 20, 0.005);
  return [Math.min(low - pad, -0.01), Math.max(high + pad, 0.01)];
}

/** Maps a value of `domain` onto 0…`width`. */
export function scale(domain: [number, number], width: number): (value: number) => number {
  const [low, high] = domain;
  return (value) => ((value - low) / (high - low)) * width;
}

/** Whether no variant has an exposure in the window yet. */
export function noExposures(results: ExperimentResults): boolean {
  return results.variants.every((variant) => variant.exposures === 0);
}

/** The sample-ratio warning's text, or null when the exposures follow the promised split. */
export function mismatchText(results: ExperimentResults): string | null {
  const srm = results.sampleRatio;
  if (!srm || !srm.mismatch) return null;
  return (
    `Sample ratio mismatch: the exposures do not follow the promised split ` +
    `(χ² = ${srm.chi2.toFixed(1)}, p = ${formatPValue(srm.pValue)} < ${srm.threshold}), so the comparison cannot be trusted.`
  );
}
