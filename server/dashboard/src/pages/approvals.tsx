import { useId, useState } from "preact/hooks";
import type { ApiError, AuditEntry, ChangeRequest, ContextSetSummary, FlagEntry, WhatIf, WhatIfOutcome } from "../api.ts";
import { StateBadge } from "../components/badge.tsx";
import { DiffList } from "../components/diff.tsx";
import { ErrorNote } from "../components/error.tsx";
import { SelectField } from "../components/field.tsx";
import { DataTable } from "../components/table.tsx";
import { Time } from "../components/time.tsx";
import { useResource } from "../hooks.ts";
import { proposalDiff, proposalText } from "../proposal.ts";
import { href } from "../router.ts";
import { canApprove, canWrite, useSession } from "../session.ts";
import { useAction } from "./flag.tsx";

/** The queue of change requests, each with its diff, a what-if and the decision. */
export function ApprovalsPage() {
  const { api, me } = useSession();
  const requests = useResource(() => api.changeRequests(), []);
  const all = requests.data ?? [];
  const pending = all.filter((r) => r.status === "pending").sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  // The context sets of every environment with a pending request, asked once for all of them.
  const envs = [...new Set(pending.map((r) => r.environment))].sort().join("\n");
  const sets = useResource(
    () => Promise.all(envs.split("\n").filter(Boolean).map((env) => api.contextSets(env).then((list) => [env, list] as const))).then((pairs) => new Map(pairs)),
    [envs],
  );
  const decided = all.filter((r) => r.status !== "pending").sort((a, b) => (b.decidedAt ?? "").localeCompare(a.decidedAt ?? ""));
  return (
    <section>
      <h1>Approvals</h1>
      <ErrorNote error={requests.error} />
      {requests.loading && !requests.data ? <p class="loading">Loading change requests…</p> : null}
      {requests.data ? (
        <>
          <p class="muted">{pending.length === 0 ? "No change request is waiting." : `${pending.length} change request${pending.length === 1 ? "" : "s"} waiting.`}</p>
          {pending.map((request) => (
            <Request key={request.id} request={request} onDecided={requests.reload} sets={{ data: sets.data?.get(request.environment), error: sets.error, loading: sets.loading }} />
          ))}
          {canWrite(me.role) ? <UploadContextSet /> : null}
          <h2>Decided</h2>
          {decided.length === 0 ? (
            <p class="muted">Nothing decided yet.</p>
          ) : (
            <DataTable caption="Decided change requests" hideCaption columns={["Change", "Status", "Author", "Decided by", "When", "Reason"]}>
              {decided.map((r) => (
                <tr key={r.id}>
                  <td>
                    {title(r)}
                    <div class="muted">{proposalText(r.request)}</div>
                  </td>
                  <td>
                    <StateBadge state={r.status} />
                  </td>
                  <td>{r.author}</td>
                  <td>{r.decidedBy ?? "—"}</td>
                  <td>
                    <Time at={r.decidedAt} />
                  </td>
                  <td>{r.decisionReason ?? ""}</td>
                </tr>
              ))}
            </DataTable>
          )}
        </>
      ) : null}
    </section>
  );
}

/** `state checkout.new-flow in production` (the article's name). */
function title(request: ChangeRequest): string {
  return `${request.action} ${request.flag ?? request.segment ?? "snapshot"} in ${request.environment}`;
}

interface Sets {
  data: readonly ContextSetSummary[] | undefined;
  error: ApiError | undefined;
  loading: boolean;
}

function Request({ request, onDecided, sets }: { request: ChangeRequest; onDecided: () => void; sets: Sets }) {
  const { api, me } = useSession();
  const headingId = useId();
  const reasonId = useId();
  const [reason, setReason] = useState("");
  const action = useAction();
  const own = request.author === me.principal;
  const admin = canApprove(me.role);
  // The flag as it is now, and its history (for a rollback's target), for the diff.
  const context = useResource(
    () =>
      request.flag
        ? Promise.all([
            api.flag(request.environment, request.flag).catch(() => undefined as FlagEntry | undefined),
            api.history(request.environment, request.flag).catch(() => [] as AuditEntry[]),
          ])
        : Promise.resolve<[FlagEntry | undefined, AuditEntry[]]>([undefined, []]),
    [request.id],
  );
  const diff = context.data ? proposalDiff(request.request, context.data[0]?.definition, context.data[1]) : null;
  const decide = (approve: boolean) =>
    void action
      .run(async () => {
        if (approve) {
          const applied = await api.approve(request.id, reason.trim());
          return `Approved: published as revision ${applied.revision}`;
        }
        await api.reject(request.id, reason.trim());
        return "Rejected";
      })
      .then((ok) => ok && onDecided());

  return (
    <article class="request" aria-labelledby={headingId}>
      <h2 id={headingId}>{title(request)}</h2>
      <p>
        <strong>{proposalText(request.request)}</strong>
      </p>
      <dl class="facts">
        <dt>Author</dt>
        <dd>{request.author}</dd>
        <dt>Proposed</dt>
        <dd>
          <Time at={request.createdAt} /> on revision {request.baseRevision}
        </dd>
        <dt>Reason</dt>
        <dd>{request.reason ?? <span class="muted">none given</span>}</dd>
        {request.flag ? (
          <>
            <dt>Flag</dt>
            <dd>
              <a href={href.flag(request.environment, request.flag)}>{request.flag}</a>
            </dd>
          </>
        ) : null}
      </dl>
      <h3>Diff</h3>
      {diff ? <DiffList before={diff.before} after={diff.after} label={`Changes proposed by ${title(request)}`} /> : <p class="muted">{context.loading ? "Loading…" : "No field-level diff for this kind of change."}</p>}
      <WhatIfPanel request={request} sets={sets} />
      <p role="status" class="success">
        {action.message}
      </p>
      <ErrorNote error={action.error} />
      {admin || own ? (
        <div class="row">
          <div style="flex: 1 1 16rem">
            <label for={reasonId}>Reason</label>
            <input id={reasonId} type="text" value={reason} onInput={(e) => setReason(e.currentTarget.value)} style="width: 100%" />
          </div>
          {/* The author sees Approve disabled (with why); other non-admins do not see it. */}
          {admin || own ? (
            <button type="button" disabled={own || action.busy} aria-describedby={own ? `${headingId}-own` : undefined} onClick={() => decide(true)}>
              Approve
            </button>
          ) : null}
          <button type="button" class="danger" disabled={action.busy} onClick={() => decide(false)}>
            Reject
          </button>
        </div>
      ) : null}
      {own ? (
        <p id={`${headingId}-own`} class="muted">
          You cannot approve your own change{admin ? "" : "; another admin must approve it"}. You can reject (withdraw) it.
        </p>
      ) : !admin ? (
        <p class="muted">Only an admin can approve or reject this change.</p>
      ) : null}
    </article>
  );
}

const outcome = (o: WhatIfOutcome) => `${o.variant ?? "—"} (${JSON.stringify(o.value)})`;

function WhatIfPanel({ request, sets }: { request: ChangeRequest; sets: Sets }) {
  const { api } = useSession();
  const [chosen, setChosen] = useState("");
  const [result, setResult] = useState<WhatIf | null>(null);
  const action = useAction();
  const options = (sets.data ?? []).map((s: ContextSetSummary): [string, string] => [s.name, `${s.name} (${s.count} contexts, ${s.source})`]);
  const selected = chosen || options[0]?.[0] || "";
  const run = () =>
    void action.run(async () => {
      setResult(null);
      const answer = await api.whatIf(request.id, { contextSet: selected });
      setResult(answer);
      return "";
    });
  return (
    <section aria-label={`What-if for ${title(request)}`}>
      <h3>What-if</h3>
      {sets.error ? (
        sets.error.status === 404 ? (
          <p class="muted">Context sets are not available on this server, so a what-if cannot run.</p>
        ) : (
          <ErrorNote error={sets.error} />
        )
      ) : options.length === 0 && sets.data ? (
        <p class="muted">No context set in {request.environment} yet: upload one, or let the server sample contexts (environment setting sampleContexts).</p>
      ) : (
        <div class="row">
          <SelectField label="Context set" value={selected} options={options} onChange={setChosen} />
          <button type="button" class="secondary" disabled={!selected || action.busy} onClick={run}>
            Run what-if
          </button>
        </div>
      )}
      <ErrorNote error={action.error} />
      {result ? (
        <>
          <p>
            <strong>
              {result.flipped} of {result.contexts} contexts flip
            </strong>{" "}
            <span class="muted">(revision {result.revision}; flags that may change: {result.flags.join(", ") || "none"})</span>
          </p>
          {result.summary.length ? (
            <ul>
              {result.summary.map((s, index) => (
                <li key={index}>
                  {s.flag}: {outcome(s.from)} → {outcome(s.to)} for {s.count}
                </li>
              ))}
            </ul>
          ) : null}
          <DataTable caption="What-if results" columns={["Context", "Flag", "Before", "After"]}>
            {result.results.map((r) => (
              <tr key={`${r.index}-${r.flag}`} class="flip">
                <td>
                  #{r.index} {r.targetingKey ?? ""}
                </td>
                <td>{r.flag}</td>
                <td>
                  {outcome(r.before)} <span class="muted">{r.before.reason ?? ""}</span>
                </td>
                <td>
                  {outcome(r.after)} <span class="muted">{r.after.reason ?? ""}</span>
                </td>
              </tr>
            ))}
          </DataTable>
          {result.results.length < result.flipped ? <p class="muted">Showing the first {result.results.length} flips.</p> : null}
        </>
      ) : null}
    </section>
  );
}

/** Saves a set of contexts (PUT …/context-sets/NAME) for what-ifs: pasted JSON or a file. */
function UploadContextSet() {
  const { api, environments, me } = useSession();
  const [env, setEnv] = useState(environments[0]?.key ?? "");
  const [name, setName] = useState("");
  const [text, setText] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      let contexts: unknown;
      try {
        contexts = JSON.parse(text);
      } catch (failure) {
        throw new Error(`The contexts are not JSON: ${failure instanceof Error ? failure.message : String(failure)}`);
      }
      if (!Array.isArray(contexts)) throw new Error("The contexts must be a JSON array of context objects");
      const saved = await api.putContextSet(env, name.trim(), contexts);
      return `Saved context set ${saved.name} in ${env} (${saved.count} contexts)`;
    });
  };
  const readFile = async (event: Event) => {
    const file = (event.currentTarget as HTMLInputElement).files?.[0];
    if (file) setText(await file.text());
  };
  return (
    <details class="panel">
      <summary>Context sets for what-ifs</summary>
      {canApprove(me.role) ? <Sampling /> : null}
      <h3>Upload a context set</h3>
      <form onSubmit={submit}>
        <p class="hint">What-ifs evaluate a change against a saved set of contexts: up to 10,000, as a JSON array, e.g. <code>{'[{"targetingKey": "u-1", "country": "DE"}]'}</code>.</p>
        <div class="row">
          <SelectField label="Environment" value={env} options={environments.map((e) => e.key)} onChange={setEnv} />
          <div>
            <label for="context-set-name">Set name</label>
            <input id="context-set-name" type="text" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </div>
          <div>
            <label for="context-set-file">JSON file</label>
            <input id="context-set-file" type="file" accept="application/json,.json" onChange={(e) => void readFile(e)} />
          </div>
        </div>
        <label for="context-set-json">Contexts (JSON array)</label>
        <textarea id="context-set-json" required value={text} onInput={(e) => setText(e.currentTarget.value)} spellcheck={false} />
        <div class="actions">
          <button type="submit" disabled={action.busy}>
            Upload
          </button>
        </div>
        <p role="status" class="success">
          {action.message}
        </p>
        <ErrorNote error={action.error} />
      </form>
    </details>
  );
}

/** Admins turn on sampling: the server keeps recent SDK contexts as the set `sampled`. */
function Sampling() {
  const { api } = useSession();
  const environments = useResource(() => api.environments(), []);
  const action = useAction();
  const toggle = (env: string, on: boolean) =>
    void action.run(async () => {
      await api.updateEnvironment(env, { sampleContexts: on, reason: `${on ? "Sample" : "Stop sampling"} SDK contexts for what-ifs (dashboard)` });
      environments.reload();
      return `${on ? "Sampling" : "Not sampling"} contexts in ${env}`;
    });
  return (
    <fieldset>
      <legend>Sample contexts from SDK evaluations (kept in the server's memory as the set "sampled")</legend>
      {(environments.data ?? []).map((e) => (
        <label class="checkbox" key={e.key}>
          <input type="checkbox" checked={e.sampleContexts === true} disabled={action.busy || e.sampleContexts === undefined} onChange={(event) => toggle(e.key, event.currentTarget.checked)} />
          {e.key}
        </label>
      ))}
      <p role="status" class="success">
        {action.message}
      </p>
      <ErrorNote error={action.error ?? environments.error} />
    </fieldset>
  );
}
