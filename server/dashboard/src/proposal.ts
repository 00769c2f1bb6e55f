// What a change request proposes, read from its `request` (the server's mutation:
// put / delete / edit / rollback / import). Pure: a sentence, and the before/after of the
// fields it sets for the diff (the whole definition for a put or a rollback).
import type { AuditEntry, FlagDefinition, Override } from "./api.ts";
import { cohortText } from "./describe.ts";

type Obj = Record<string, unknown>;
const str = (value: unknown) => (typeof value === "string" ? value : "");

export function proposalText(request: unknown): string {
  const r = (request ?? {}) as Obj;
  const key = str(r["key"]);
  switch (r["type"]) {
    case "put":
      return `Replace the definition of ${r["kind"] === "segment" ? "segment" : "flag"} ${key}`;
    case "delete":
      return `Delete ${r["kind"] === "segment" ? "segment" : "flag"} ${key}`;
    case "rollback":
      return r["to_revision"] ?? r["toRevision"] ? `Roll ${key} back to revision ${String(r["to_revision"] ?? r["toRevision"])}` : `Roll ${key} back to its previous definition`;
    case "import": {
      const flags = Object.keys(((r["snapshot"] as Obj | undefined)?.["flags"] as Obj | undefined) ?? {}).length;
      return `Import a snapshot of ${flags} flag${flags === 1 ? "" : "s"}${r["replace"] ? ", removing what it does not have" : ""}`;
    }
    case "edit": {
      const edit = (r["edit"] ?? {}) as Obj;
      switch (edit["edit"]) {
        case "state":
          return `Set the state of ${key} to ${str(edit["state"])}${edit["percentage"] != null ? ` at ${String(edit["percentage"])}%` : ""}`;
        case "kill":
          return `Kill ${key}`;
        case "overrideSet":
          return `Give tenant ${str(edit["tenant"])} the variant "${str(edit["variant"])}" of ${key}${edit["expires_at"] ? ` until ${str(edit["expires_at"])}` : ""}`;
        case "overrideRm":
          return `Remove the override of tenant ${str(edit["tenant"])} from ${key}`;
        case "rollout": {
          const stages = Array.isArray(edit["stages"]) ? (edit["stages"] as { percentage: number; duration?: string }[]) : null;
          const amount = stages ? cohortText({ progressive: { start: str(edit["start"]), stages } }) : `${String(edit["percentage"] ?? 0)}%`;
          return `Set the ${str(edit["cohort"])} rollout of ${key} to ${amount}`;
        }
      }
    }
  }
  return `Change ${key || "the environment"}`;
}

/** The definition in force at environment revision `revision`, from a flag's history (newest first). */
export function definitionAt(history: AuditEntry[], revision: number): unknown {
  const entry = history.find((e) => e.revision != null && e.revision <= revision);
  return entry?.after;
}

/**
 * Before and after for the diff: for a put, delete or rollback the whole definition; for
 * an edit only the fields it sets. `null` when there is nothing to compare (an import).
 */
export function proposalDiff(request: unknown, current: FlagDefinition | undefined, history: AuditEntry[]): { before: unknown; after: unknown } | null {
  const r = (request ?? {}) as Obj;
  switch (r["type"]) {
    case "put":
      return { before: current, after: r["definition"] };
    case "delete":
      return { before: current, after: undefined };
    case "rollback": {
      const to = (r["to_revision"] ?? r["toRevision"]) as number | null | undefined;
      // Without a revision the server restores the one before the flag's last change.
      const after = to != null ? definitionAt(history, to) : history[1]?.after;
      return after === undefined ? null : { before: current, after };
    }
    case "edit": {
      const edit = (r["edit"] ?? {}) as Obj;
      const overrides = current?.overrides ?? [];
      switch (edit["edit"]) {
        case "state":
          return { before: { state: current?.state }, after: { state: edit["state"], ...(edit["percentage"] != null ? { percentage: edit["percentage"] } : {}) } };
        case "kill":
          return { before: { state: current?.state }, after: { state: "kill" } };
        case "overrideSet": {
          const next: Override = { tenant: str(edit["tenant"]), variant: str(edit["variant"]) };
          if (edit["expires_at"]) next.expiresAt = str(edit["expires_at"]);
          if (edit["note"]) next.note = str(edit["note"]);
          const replaced = overrides.some((o) => o.tenant === next.tenant);
          return { before: { overrides }, after: { overrides: replaced ? overrides.map((o) => (o.tenant === next.tenant ? next : o)) : [...overrides, next] } };
        }
        case "overrideRm":
          return { before: { overrides }, after: { overrides: overrides.filter((o) => o.tenant !== edit["tenant"]) } };
        case "rollout": {
          const field = edit["cohort"] === "canary" ? "canary" : "fallthrough";
          const { cohort: _, ...set } = edit;
          return { before: { [field]: current?.[field] }, after: { [field]: set } };
        }
      }
    }
  }
  return null;
}
