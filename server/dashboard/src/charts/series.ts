// A rollout's series (GET /api/v1/environments/{env}/rollouts/{key}/series) turned into
// what the rollout page draws: uPlot's aligned data per metric, the stage bands, the
// controller's decisions as markers, and which points have the canary above its
// threshold. Pure: no DOM, no clock. The thresholds come from core through the server;
// nothing here computes one.

import type { CohortPoint, RolloutSeries, SeriesPoint } from "../api.ts";

export type { RolloutSeries, SeriesPoint };

/**
 * A decision in the rollout's history as either endpoint writes it: GET …/rollouts/{key}
 * names the fields `seq`, `kind` and `actor`, the series contract `sequence`, `action`
 * and `principal`; both are read.
 */
export interface HistoryEntry {
  seq?: number;
  sequence?: number;
  kind?: string;
  action?: string;
  actor?: string;
  principal?: string;
  stage?: number;
  percentage?: number | null;
  reason?: string | null;
  at: string;
}

/** The two charts of the rollout page. */
export type Metric = "errorRate" | "p95";

/** A decision as the page shows it. */
export interface Decision {
  seq: number;
  action: string;
  /** The stage after the decision, from 1 (null when unknown). */
  stage: number | null;
  percentage: number | null;
  principal: string;
  reason: string | null;
  at: string;
  /** Seconds since the epoch (uPlot's time unit). */
  t: number;
}

/** A stage drawn as a band on the time axis (seconds). */
export interface StageBand {
  /** From 1. */
  number: number;
  percentage: number;
  from: number;
  to: number;
  /** The band runs to the end of the axis: the stage has not ended. */
  open: boolean;
}

/** Seconds since the epoch of an RFC 3339 time (NaN when it does not parse). */
export function seconds(at: string): number {
  return Date.parse(at) / 1000;
}

function cohortValue(cohort: CohortPoint, metric: Metric): number | null {
  const value = metric === "errorRate" ? cohort.errorRate : cohort.p95;
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The canary's value at a point for the metric. */
export function canaryValue(point: SeriesPoint, metric: Metric): number | null {
  return cohortValue(point.canary, metric);
}

/** The control's value at a point for the metric. */
export function controlValue(point: SeriesPoint, metric: Metric): number | null {
  return cohortValue(point.control, metric);
}

function finite(value: number | null | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * The threshold lines of a metric at a point, the lowest first: for the error rate the
 * tolerance line and the absolute guard, for latency the p95 line.
 */
export function thresholdsOf(point: SeriesPoint, metric: Metric): { name: string; value: number }[] {
  const out: { name: string; value: number }[] = [];
  if (metric === "errorRate") {
    const line = finite(point.thresholds?.errorRate);
    const guard = finite(point.thresholds?.maxErrorRate);
    if (line !== null) out.push({ name: "threshold", value: line });
    if (guard !== null) out.push({ name: "guard", value: guard });
  } else {
    const line = finite(point.thresholds?.p95);
    if (line !== null) out.push({ name: "threshold", value: line });
  }
  return out;
}

/**
 * Whether the canary is above one of its thresholds at a point: the threshold it is
 * above (the highest one crossed), or null.
 */
export function aboveThreshold(point: SeriesPoint, metric: Metric): { name: string; value: number } | null {
  const canary = canaryValue(point, metric);
  if (canary === null) return null;
  const crossed = thresholdsOf(point, metric).filter((line) => canary > line.value);
  return crossed[crossed.length - 1] ?? null;
}

/** The labels of the threshold series a metric's chart draws, in order. */
export function thresholdNames(series: RolloutSeries, metric: Metric): string[] {
  const names = new Set<string>();
  for (const point of series.points) for (const line of thresholdsOf(point, metric)) names.add(line.name);
  return ["threshold", "guard"].filter((name) => names.has(name));
}

/**
 * uPlot's aligned data for one metric: `[times, canary, control, ...thresholds]`, with
 * null where a value is missing (a gap in the line). Points are sorted by time; a point
 * whose time does not parse is dropped.
 */
export function chartData(series: RolloutSeries, metric: Metric): (number | null)[][] {
  const points = series.points
    .map((point) => ({ point, t: seconds(point.at) }))
    .filter(({ t }) => Number.isFinite(t))
    .sort((a, b) => a.t - b.t);
  const names = thresholdNames(series, metric);
  const times: number[] = [];
  const canary: (number | null)[] = [];
  const control: (number | null)[] = [];
  const lines: (number | null)[][] = names.map(() => []);
  for (const { point, t } of points) {
    times.push(t);
    canary.push(canaryValue(point, metric));
    control.push(controlValue(point, metric));
    const values = thresholdsOf(point, metric);
    names.forEach((name, i) => lines[i]?.push(values.find((line) => line.name === name)?.value ?? null));
  }
  return [times, canary, control, ...lines];
}

/** The time axis's end: the rollout's end, or the newest point or decision. */
export function axisEnd(series: RolloutSeries): number {
  const ended = series.endedAt ? seconds(series.endedAt) : NaN;
  if (Number.isFinite(ended)) return ended;
  const times = [
    seconds(series.startedAt),
    ...series.points.map((point) => seconds(point.at)),
    ...decisions(series.events).map((decision) => decision.t),
  ].filter(Number.isFinite);
  return times.length ? Math.max(...times) : NaN;
}

/** The stages that have begun, as bands on the time axis, numbered from 1 in plan order. */
export function stageBands(series: RolloutSeries): StageBand[] {
  const end = axisEnd(series);
  const bands: StageBand[] = [];
  [...series.stages]
    .sort((a, b) => a.index - b.index)
    .forEach((stage, position) => {
      if (!stage.startedAt) return;
      const from = seconds(stage.startedAt);
      const stop = stage.endedAt ? seconds(stage.endedAt) : end;
      if (!Number.isFinite(from)) return;
      bands.push({
        number: position + 1,
        percentage: stage.percentage,
        from,
        to: Number.isFinite(stop) ? Math.max(stop, from) : from,
        open: !stage.endedAt,
      });
    });
  return bands;
}

/** A point's stage numbered from 1 in plan order (the series numbers stages by `index`). */
export function stageNumber(series: RolloutSeries, stage: number): number {
  const order = [...series.stages].sort((a, b) => a.index - b.index);
  const position = order.findIndex((entry) => entry.index === stage);
  return position >= 0 ? position + 1 : stage + 1;
}

/** The rollout's history as decisions, oldest first. */
export function decisions(events: readonly unknown[]): Decision[] {
  return events
    .filter((event): event is HistoryEntry => typeof event === "object" && event !== null && typeof (event as HistoryEntry).at === "string")
    .map((event, i) => ({
      seq: event.seq ?? event.sequence ?? i + 1,
      action: event.kind ?? event.action ?? "event",
      stage: typeof event.stage === "number" ? event.stage : null,
      percentage: finite(event.percentage ?? null),
      principal: event.actor ?? event.principal ?? "",
      reason: event.reason ?? null,
      at: event.at,
      t: seconds(event.at),
    }))
    .sort((a, b) => a.seq - b.seq);
}

/** Whether a rollout in this state is still being judged (and so worth polling). */
export function isActive(state: string): boolean {
  return state === "running" || state === "paused" || state === "awaiting_approval";
}

/** The newest point, for the sample sizes shown beside a chart. */
export function latestPoint(series: RolloutSeries): SeriesPoint | null {
  let best: SeriesPoint | null = null;
  for (const point of series.points) {
    if (!Number.isFinite(seconds(point.at))) continue;
    if (!best || seconds(point.at) > seconds(best.at)) best = point;
  }
  return best;
}
