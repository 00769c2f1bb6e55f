// Flag definitions in words (docs/snapshot-format.md §2, §5, §6): conditions as sentences,
// serves, targets, and the one-line rollout summary of the flags table. Pure.
import type { Cohort, CohortStanding, Condition, FlagEntry, Json, RolloutView, Serve, Target } from "./api.ts";

const MAX_VALUES = 10;

/** A scalar as written in a rule: strings quoted, the rest as JSON. */
export function literal(value: Json | undefined): string {
  if (typeof value === "string") return `"${value}"`;
  return JSON.stringify(value ?? null);
}

/** `"US", "GB" or "DE"`; long lists end with "and N more". */
export function valueList(values: Json[] | undefined, joiner = "or"): string {
  const list = values ?? [];
  const shown = list.slice(0, MAX_VALUES).map(literal);
  const more = list.length - shown.length;
  if (more > 0) return `${shown.join(", ")} and ${more} more`;
  if (shown.length <= 1) return shown.join("");
  return `${shown.slice(0, -1).join(", ")} ${joiner} ${shown[shown.length - 1]}`;
}

/** `country`, or a JSON pointer `/address/country` as `address.country`. */
export function attributeName(attribute: string): string {
  if (!attribute.startsWith("/")) return attribute;
  return attribute
    .slice(1)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
}

const phrases: Record<string, (v: string, list: string) => string> = {
  equals: (v) => `is ${v}`,
  notEquals: (v) => `is not ${v}`,
  in: (_, list) => `is ${list}`,
  notIn: (_, list) => `is neither ${list.replace(/ or (?=[^,]*$)/, " nor ")}`,
  contains: (v) => `contains ${v}`,
  startsWith: (v) => `starts with ${v}`,
  endsWith: (v) => `ends with ${v}`,
  lt: (v) => `is less than ${v}`,
  lte: (v) => `is at most ${v}`,
  gt: (v) => `is more than ${v}`,
  gte: (v) => `is at least ${v}`,
  before: (v) => `is before ${v}`,
  after: (v) => `is after ${v}`,
  semverEq: (v) => `is version ${v}`,
  semverLt: (v) => `is a version before ${v}`,
  semverLte: (v) => `is version ${v} or earlier`,
  semverGt: (v) => `is a version after ${v}`,
  semverGte: (v) => `is version ${v} or later`,
  matches: (v) => `matches the pattern ${v}`,
  inCidr: (_, list) => `is an address in ${list}`,
  exists: () => "is set",
  missing: () => "is not set",
};

const unquoted = new Set(["semverEq", "semverLt", "semverLte", "semverGt", "semverGte", "before", "after", "lt", "lte", "gt", "gte"]);

/** One condition as a sentence; nested groups in parentheses. */
export function conditionText(condition: Condition): string {
  return describe(condition, true);
}

function describe(condition: Condition, top: boolean): string {
  const group = (text: string) => (top ? text : `(${text})`);
  if ("all" in condition) {
    if (condition.all.length === 0) return "always";
    if (condition.all.length === 1) return describe(condition.all[0]!, top);
    return group(condition.all.map((c) => describe(c, false)).join(" and "));
  }
  if ("any" in condition) {
    if (condition.any.length === 0) return "never";
    if (condition.any.length === 1) return describe(condition.any[0]!, top);
    return group(condition.any.map((c) => describe(c, false)).join(" or "));
  }
  if ("not" in condition) {
    const inner = condition.not;
    if ("inSegment" in inner) return `not in segment "${inner.inSegment}"`;
    return `not ${describe(inner, false)}`;
  }
  if ("inSegment" in condition) return `in segment "${condition.inSegment}"`;
  const name = attributeName(condition.attribute);
  const value =
    condition.op === "matches" && typeof condition.value === "string"
      ? `/${condition.value}/`
      : unquoted.has(condition.op) && condition.value !== undefined
        ? String(condition.value)
        : literal(condition.value);
  const phrase = phrases[condition.op];
  const text = phrase ? phrase(value, valueList(condition.values, condition.op === "inCidr" ? "or" : "or")) : `${condition.op} ${value}`;
  return `${name} ${text}${condition.caseInsensitive ? " (ignoring case)" : ""}`;
}

/** `10% → 30% → 50% → 100%` for stages; `25%` for a fixed percentage; a ramp for gradual. */
export function cohortText(cohort: Cohort): string {
  if (cohort.progressive) {
    const stages = cohort.progressive.stages.map((s) => `${s.percentage}%${s.duration ? ` for ${durationText(s.duration)}` : ""}`);
    return `stages ${stages.join(" → ")}${cohort.progressive.pausedAt ? " (paused)" : ""}`;
  }
  if (cohort.gradual) {
    const g = cohort.gradual;
    return `a ramp from ${g.from ?? 0}% to ${g.to ?? 100}% over ${durationText(g.duration)}`;
  }
  return `${cohort.percentage ?? 0}%`;
}

/** `PT1H30M` → `1 h 30 min`; other text unchanged. */
export function durationText(iso: string): string {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
  if (!match) return iso;
  const [, d, h, m, s] = match;
  const parts = [d && `${d} d`, h && `${h} h`, m && `${m} min`, s && `${s} s`].filter(Boolean);
  return parts.length ? parts.join(" ") : iso;
}

/** Who passes the canary gate, in words, with where it stands now (core's `standing`). */
export function canaryText(cohort: Cohort, offVariant: string, standing: CohortStanding | null | undefined): string {
  const by = cohort.bucketBy ? ` (by ${attributeName(cohort.bucketBy)})` : "";
  return `the on path for ${cohortText(cohort)}${by}, now ${standingText(standing)}; everyone else gets "${offVariant}"`;
}

/** What a serve hands out, in words. */
export function serveText(serve: Serve): string {
  if ("variant" in serve) return `serve "${serve.variant}"`;
  if ("rollout" in serve) {
    const r = serve.rollout;
    return `serve "${r.variant}" to ${cohortText(r)}, "${r.otherwise}" to the rest${r.bucketBy ? ` (by ${attributeName(r.bucketBy)})` : ""}`;
  }
  const parts = serve.split.variants.map((v) => `"${v.variant}" ${v.weight}%`);
  return `split ${parts.join(", ")}${serve.split.bucketBy ? ` (by ${attributeName(serve.split.bucketBy)})` : ""}`;
}

/** `users u-1, u-2; groups staff → "on"`. */
export function targetText(target: Target): string {
  const who = [
    target.users?.length ? `users ${target.users.join(", ")}` : "",
    target.groups?.length ? `groups ${target.groups.join(", ")}` : "",
    target.tenants?.length ? `tenants ${target.tenants.join(", ")}` : "",
  ].filter(Boolean);
  return `${who.length ? who.join("; ") : "nobody"} get "${target.variant}"`;
}

/** Where a cohort stands now, from core's `standing`: `stage 2/4 · 30%`, `37.5% (ramping)`, `25%`. */
export function standingText(standing: CohortStanding | null | undefined): string {
  if (!standing) return "?";
  const percent = `${Math.round(standing.percentage * 1000) / 1000}%`;
  const paused = standing.paused ? " (paused)" : "";
  if (standing.stages !== null) {
    if (standing.stage === null) return `not started (${standing.stages} stages)${paused}`;
    return `stage ${standing.stage + 1}/${standing.stages} · ${percent}${paused}`;
  }
  return standing.ramping ? `${percent} (ramping)` : percent;
}

/**
 * The Rollout column: the rollout in progress (stage n/N and its percentage) if there is
 * one, else what the definition serves now (the canary cohort in canary or shadow, a
 * rollout or split on the fallthrough when on); `—` when everyone gets one variant.
 */
export function rolloutSummary(flag: FlagEntry, rollout?: RolloutView): string {
  const definition = flag.definition;
  if (rollout && ["running", "paused", "awaiting_approval"].includes(rollout.status)) {
    const status = rollout.status === "running" ? "" : ` (${rollout.status.replace(/_/g, " ")})`;
    return `stage ${rollout.stage}/${rollout.stages} · ${rollout.percentage}%${status}`;
  }
  if ((definition.state === "canary" || definition.state === "shadow") && definition.canary) {
    return `${definition.state} ${standingText(flag.standing?.canary)}`;
  }
  // In shadow the on path is computed but not served: say what it would serve.
  const prefix = definition.state === "shadow" ? "shadow " : "";
  const fallthrough = definition.fallthrough;
  if ((definition.state !== "on" && !prefix) || !fallthrough) return "—";
  if ("rollout" in fallthrough) return prefix + standingText(flag.standing?.fallthrough);
  if ("split" in fallthrough) return `${prefix}split ${fallthrough.split.variants.map((v) => v.weight).join("/")}`;
  return "—";
}
