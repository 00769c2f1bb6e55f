import { useMemo, useState } from "preact/hooks";
import type { RolloutView } from "../api.ts";
import { StateBadge } from "../components/badge.tsx";
import { DataTable } from "../components/table.tsx";
import { ErrorNote } from "../components/error.tsx";
import { type FlagRow, flagRows } from "../filters.ts";
import { useResource } from "../hooks.ts";
import { href } from "../router.ts";
import { useSession } from "../session.ts";
import { orEmpty } from "./flags.tsx";

/** The same flags side by side: one column per environment, state and percentage. */
export function ComparePage() {
  const { api, environments } = useSession();
  const [q, setQ] = useState("");
  const [differentOnly, setDifferentOnly] = useState(false);
  const data = useResource(
    () =>
      Promise.all(
        environments.map(async (e) => {
          const [flags, rollouts] = await Promise.all([api.flags(e.key), orEmpty<RolloutView>(api.rollouts(e.key))]);
          return new Map(flagRows(flags, rollouts, []).map((row) => [row.key, row]));
        }),
      ),
    [environments],
  );
  const rows = useMemo(() => {
    const perEnv = data.data ?? [];
    const keys = [...new Set(perEnv.flatMap((m) => [...m.keys()]))].sort();
    return keys
      .map((key) => ({ key, cells: perEnv.map((m) => m.get(key)) }))
      .filter((row) => row.key.toLowerCase().includes(q.toLowerCase()))
      .filter((row) => !differentOnly || new Set(row.cells.map(cellText)).size > 1);
  }, [data.data, q, differentOnly]);

  return (
    <section>
      <h1>Compare environments</h1>
      <div class="filters">
        <div>
          <label for="compare-search">Search flags</label>
          <input id="compare-search" type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        </div>
        <label class="checkbox">
          <input type="checkbox" checked={differentOnly} onChange={(e) => setDifferentOnly(e.currentTarget.checked)} />
          Differences only
        </label>
      </div>
      <ErrorNote error={data.error} />
      {data.loading && !data.data ? <p class="loading">Loading…</p> : null}
      {data.data ? (
        <DataTable caption="Flags across environments" columns={["Flag", ...environments.map((e) => e.key)]}>
              {rows.map((row) => (
                <tr key={row.key}>
                  <th scope="row">{row.key}</th>
                  {row.cells.map((cell, index) => {
                    const env = environments[index]!.key;
                    return (
                      <td key={env}>
                        {cell ? (
                          <a href={href.flag(env, row.key)} aria-label={`${row.key} in ${env}: ${cellText(cell)}`}>
                            <StateBadge state={cell.state} /> {cell.rollout === "—" ? "" : cell.rollout}
                          </a>
                        ) : (
                          <span class="muted">absent</span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
        </DataTable>
      ) : null}
    </section>
  );
}

function cellText(cell: FlagRow | undefined): string {
  if (!cell) return "absent";
  return cell.rollout === "—" ? cell.state : `${cell.state}, ${cell.rollout}`;
}
