// The flags table's rows and its search / filters. Pure.
import type { FlagEntry, FlagState, RolloutView } from "./api.ts";
import { rolloutSummary } from "./describe.ts";

export interface StaleInfo {
  key: string;
  reasons?: string[];
  since?: string;
}

export interface FlagRow {
  key: string;
  type: string;
  state: FlagState;
  rollout: string;
  owner: string;
  tags: string[];
  description: string;
  updatedAt: string;
  updatedBy: string;
  stale: string[] | null;
}

export interface FlagFilter {
  q: string;
  state: FlagState | "";
  tag: string;
  staleOnly: boolean;
}

export const noFilter: FlagFilter = { q: "", state: "", tag: "", staleOnly: false };

export function flagRows(flags: FlagEntry[], rollouts: RolloutView[], stale: StaleInfo[]): FlagRow[] {
  const newest = new Map<string, RolloutView>();
  for (const rollout of rollouts) {
    const seen = newest.get(rollout.flag);
    if (!seen || seen.startedAt < rollout.startedAt) newest.set(rollout.flag, rollout);
  }
  const staleBy = new Map(stale.map((s) => [s.key, s.reasons ?? ["stale"]]));
  return flags
    .map((flag) => {
      const d = flag.definition;
      const meta = d.metadata ?? {};
      return {
        key: flag.key,
        type: d.type,
        state: d.state,
        rollout: rolloutSummary(flag, newest.get(flag.key)),
        owner: typeof meta.owner === "string" ? meta.owner : "",
        tags: Array.isArray(meta.tags) ? meta.tags.filter((t): t is string => typeof t === "string") : [],
        description: typeof meta.description === "string" ? meta.description : "",
        updatedAt: flag.updatedAt,
        updatedBy: flag.updatedBy,
        stale: staleBy.get(flag.key) ?? null,
      };
    })
    .sort((a, b) => a.key.localeCompare(b.key));
}

/** Search matches key, description, owner and tags, case-insensitively; every word must match. */
export function filterRows(rows: FlagRow[], filter: FlagFilter): FlagRow[] {
  const words = filter.q.toLowerCase().split(/\s+/).filter(Boolean);
  return rows.filter((row) => {
    if (filter.state && row.state !== filter.state) return false;
    if (filter.tag && !row.tags.includes(filter.tag)) return false;
    if (filter.staleOnly && !row.stale) return false;
    const haystack = [row.key, row.description, row.owner, ...row.tags].join(" ").toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
}

export function allTags(rows: FlagRow[]): string[] {
  return [...new Set(rows.flatMap((row) => row.tags))].sort();
}

/** The filter from the route's query (`q`, `state`, `tag`, `stale=1`). */
export function filterFromParams(params: URLSearchParams, states: readonly string[]): FlagFilter {
  const state = params.get("state") ?? "";
  return {
    q: params.get("q") ?? "",
    state: (states.includes(state) ? state : "") as FlagFilter["state"],
    tag: params.get("tag") ?? "",
    staleOnly: params.get("stale") === "1",
  };
}

export function filterToQuery(filter: FlagFilter): Record<string, string> {
  return { q: filter.q, state: filter.state, tag: filter.tag, stale: filter.staleOnly ? "1" : "" };
}

/** `past remove-by date`, … for the stale marker. */
export function staleText(reasons: string[]): string {
  const words: Record<string, string> = { past_remove_by: "past its remove-by date", fully_rolled_out: "fully rolled out", killed: "killed long ago" };
  return reasons.map((r) => words[r] ?? r.replace(/_/g, " ")).join(", ");
}
