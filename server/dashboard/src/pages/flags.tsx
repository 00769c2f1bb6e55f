import { useEffect, useMemo, useState } from "preact/hooks";
import { FLAG_STATES, type RolloutView } from "../api.ts";
import { StateBadge } from "../components/badge.tsx";
import { ErrorNote } from "../components/error.tsx";
import { SelectField } from "../components/field.tsx";
import { DataTable } from "../components/table.tsx";
import { Time } from "../components/time.tsx";
import { allTags, type FlagFilter, filterFromParams, filterRows, filterToQuery, flagRows, type StaleInfo, staleText } from "../filters.ts";
import { useResource } from "../hooks.ts";
import { href, replaceHash } from "../router.ts";
import { useSession } from "../session.ts";

/** Optional data (rollouts, stale flags) must not break the table when its route fails. */
export function orEmpty<T>(promise: Promise<T[]>): Promise<T[]> {
  return promise.catch(() => []);
}

export function FlagsPage({ env, params }: { env: string; params: URLSearchParams }) {
  const { api } = useSession();
  const [filter, setFilter] = useState<FlagFilter>(() => filterFromParams(params, FLAG_STATES));
  const data = useResource(
    () =>
      Promise.all([api.flags(env), orEmpty<RolloutView>(api.rollouts(env)), orEmpty(api.stale(env) as Promise<StaleInfo[]>)]).then(([flags, rollouts, stale]) =>
        flagRows(flags, rollouts, stale),
      ),
    [env],
  );
  useEffect(() => replaceHash(href.flags(env, filterToQuery(filter))), [env, filter]);
  const rows = data.data ?? [];
  const shown = useMemo(() => filterRows(rows, filter), [rows, filter]);
  const tags = useMemo(() => allTags(rows), [rows]);
  const set = (change: Partial<FlagFilter>) => setFilter((f) => ({ ...f, ...change }));

  return (
    <section>
      <h1>Flags</h1>
      <div class="filters" role="search">
        <div>
          <label for="flag-search">Search flags</label>
          <input id="flag-search" type="search" value={filter.q} placeholder="key, owner, tag, description" onInput={(e) => set({ q: e.currentTarget.value })} />
        </div>
        <SelectField label="State" value={filter.state} options={[["", "All"], ...FLAG_STATES]} onChange={(state) => set({ state: state as FlagFilter["state"] })} />
        <SelectField label="Tag" value={filter.tag} options={[["", "All"], ...tags]} onChange={(tag) => set({ tag })} />
        <label class="checkbox">
          <input type="checkbox" checked={filter.staleOnly} onChange={(e) => set({ staleOnly: e.currentTarget.checked })} />
          Stale only
        </label>
      </div>
      <ErrorNote error={data.error} />
      {data.loading && !data.data ? <p class="loading">Loading flags…</p> : null}
      {data.data ? (
        <>
          <p class="muted">
            {shown.length} of {rows.length} flags
          </p>
          <DataTable caption={`Flags in ${env}`} columns={["Key", "Type", "State", "Rollout", "Owner", "Tags", "Last change"]}>
            {shown.map((row) => (
              <tr key={row.key}>
                <td>
                  <a href={href.flag(env, row.key)}>{row.key}</a>
                  {row.stale ? (
                    <>
                      {" "}
                      <span class="stale" title={staleText(row.stale)}>
                        stale<span class="visually-hidden">: {staleText(row.stale)}</span>
                      </span>
                    </>
                  ) : null}
                </td>
                <td>{row.type}</td>
                <td>
                  <StateBadge state={row.state} />
                </td>
                <td>{row.rollout}</td>
                <td>{row.owner || <span class="muted">—</span>}</td>
                <td>{row.tags.join(", ")}</td>
                <td>
                  <Time at={row.updatedAt} /> <span class="muted">by {row.updatedBy}</span>
                </td>
              </tr>
            ))}
          </DataTable>
          {shown.length === 0 ? <p>No flag matches these filters.</p> : null}
        </>
      ) : null}
    </section>
  );
}
