import { useEffect, useState } from "preact/hooks";
import type { AuditEntry } from "../api.ts";
import { DiffList } from "../components/diff.tsx";
import { ErrorNote } from "../components/error.tsx";
import { SelectField } from "../components/field.tsx";
import { DataTable } from "../components/table.tsx";
import { Time } from "../components/time.tsx";
import { useResource } from "../hooks.ts";
import { href, replaceHash } from "../router.ts";
import { useSession } from "../session.ts";

const PAGE = 100;
// Actions the server records; others that appear in the loaded entries are added.
const KNOWN_ACTIONS = ["update", "delete", "state", "kill", "rollback", "rollout", "override_set", "override_rm", "import", "segment_create", "segment_update", "segment_delete", "environment_create", "environment_update", "token_create", "token_revoke", "change_request", "reject", "context_set"];

interface AuditFilter {
  flag: string;
  environment: string;
  action: string;
  principal: string;
}

/** The audit trail: filters (the server applies them all, so paging finds every match), diffs, chain check. */
export function AuditPage({ params }: { params: URLSearchParams }) {
  const { api, environments } = useSession();
  const [filter, setFilter] = useState<AuditFilter>(() => ({
    flag: params.get("flag") ?? "",
    environment: params.get("environment") ?? "",
    action: params.get("action") ?? "",
    principal: params.get("principal") ?? "",
  }));
  // Typing waits a moment before asking the server.
  const [query, setQuery] = useState(filter);
  useEffect(() => {
    const timer = setTimeout(() => setQuery(filter), 300);
    replaceHash(href.audit({ ...filter }));
    return () => clearTimeout(timer);
  }, [filter]);
  const [older, setOlder] = useState<AuditEntry[]>([]);
  const [loadingOlder, setLoadingOlder] = useState(false);
  useEffect(() => setOlder([]), [query.flag, query.environment, query.principal, query.action]);
  const serverQuery = {
    flag: query.flag.trim(),
    environment: query.environment,
    principal: query.principal.trim(),
    action: query.action,
    limit: PAGE,
  };
  const entries = useResource(() => api.audit(serverQuery), [query.flag, query.environment, query.principal, query.action]);
  const chain = useResource(() => api.verifyAudit(), []);
  const loaded = [...(entries.data ?? []), ...older];
  const actions = [...new Set([...KNOWN_ACTIONS, ...loaded.map((e) => e.action)])].sort();
  const last = loaded[loaded.length - 1];
  const more = (entries.data?.length ?? 0) === PAGE && (older.length === 0 || older.length % PAGE === 0);
  const loadOlder = async () => {
    if (!last) return;
    setLoadingOlder(true);
    try {
      const page = await api.audit({ ...serverQuery, before: last.seq });
      setOlder((o) => [...o, ...page]);
    } finally {
      setLoadingOlder(false);
    }
  };
  const set = (change: Partial<AuditFilter>) => setFilter((f) => ({ ...f, ...change }));

  return (
    <section>
      <h1>Audit trail</h1>
      {chain.data ? (
        chain.data.ok ? (
          <p role="status" class="success">
            Chain verified: {chain.data.entries} entries, head {chain.data.headHash.slice(0, 12)}…
          </p>
        ) : (
          <p role="alert" class="error">
            Chain broken at {brokenAt(chain.data.firstBad)}
          </p>
        )
      ) : null}
      <ErrorNote error={chain.error} />
      <div class="filters" role="search">
        <div>
          <label for="audit-flag">Flag</label>
          <input id="audit-flag" type="text" value={filter.flag} onInput={(e) => set({ flag: e.currentTarget.value })} />
        </div>
        <SelectField label="Environment" value={filter.environment} options={[["", "All"], ...environments.map((e) => e.key)]} onChange={(environment) => set({ environment })} />
        <SelectField label="Action" value={filter.action} options={[["", "All"], ...actions]} onChange={(action) => set({ action })} />
        <div>
          <label for="audit-principal">Principal</label>
          <input id="audit-principal" type="text" value={filter.principal} onInput={(e) => set({ principal: e.currentTarget.value })} />
        </div>
      </div>
      <ErrorNote error={entries.error} />
      {entries.loading && !entries.data ? <p class="loading">Loading the trail…</p> : null}
      <DataTable caption="Audit entries" columns={["Time", "Environment", "Action", "Target", "Principal", "Reason", "Revision", { label: "Diff", hidden: true }]}>
        {loaded.map((entry) => (
          <Row key={entry.seq} entry={entry} />
        ))}
      </DataTable>
      {entries.data && loaded.length === 0 ? <p>No entries match these filters.</p> : null}
      {more && last ? (
        <button type="button" class="secondary" disabled={loadingOlder} onClick={() => void loadOlder()}>
          Load older entries
        </button>
      ) : null}
    </section>
  );
}

function brokenAt(firstBad: unknown): string {
  const bad = (firstBad ?? {}) as { seq?: number; problem?: string };
  return bad.seq !== undefined ? `entry ${bad.seq}: ${bad.problem ?? "unknown problem"}` : JSON.stringify(firstBad);
}

function target(entry: AuditEntry): string {
  if (entry.flag) return `flag ${entry.flag}`;
  if (entry.segment) return `segment ${entry.segment}`;
  return "—";
}

function Row({ entry }: { entry: AuditEntry }) {
  const [open, setOpen] = useState(false);
  const hasDiff = entry.before !== undefined || entry.after !== undefined || entry.detail !== undefined;
  const id = `audit-diff-${entry.seq}`;
  return (
    <>
      <tr>
        <td>
          <Time at={entry.at} />
        </td>
        <td>{entry.environment ?? "—"}</td>
        <td>{entry.action}</td>
        <td>
          {entry.flag && entry.environment ? <a href={href.flag(entry.environment, entry.flag)}>{target(entry)}</a> : target(entry)}
        </td>
        <td>{entry.principal}</td>
        <td>{entry.reason ?? ""}</td>
        <td class="num">{entry.revision ?? ""}</td>
        <td>
          {hasDiff ? (
            <button type="button" class="secondary" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
              Show diff
            </button>
          ) : null}
        </td>
      </tr>
      {open ? (
        <tr id={id}>
          <td colSpan={8}>
            <DiffList before={entry.before} after={entry.after} label={`Changes of entry ${entry.seq}`} />
            {entry.detail !== undefined ? <pre>{JSON.stringify(entry.detail, null, 2)}</pre> : null}
            <p class="muted mono">
              entry {entry.seq} · request {entry.requestId} · hash {entry.hash.slice(0, 16)}…
            </p>
          </td>
        </tr>
      ) : null}
    </>
  );
}
