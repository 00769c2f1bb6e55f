import { useState } from "preact/hooks";
import { type ApiError, type AuditEntry, type Condition, type Evaluation, FLAG_STATES, type FlagDefinition, type FlagEntry, type FlagState, type SegmentEntry, type Serve, type WriteResult } from "../api.ts";
import { StateBadge } from "../components/badge.tsx";
import { ReasonDialog } from "../components/dialog.tsx";
import { DiffList } from "../components/diff.tsx";
import { ErrorNote } from "../components/error.tsx";
import { SelectField } from "../components/field.tsx";
import { Region } from "../components/section.tsx";
import { DataTable } from "../components/table.tsx";
import { Time } from "../components/time.tsx";
import { fromLocalInput } from "../dates.ts";
import { canaryText, conditionText, literal, serveText, targetText } from "../describe.ts";
import { asApiError, useResource } from "../hooks.ts";
import { href } from "../router.ts";
import { canWrite, useSession } from "../session.ts";

/** What a write did, as one sentence for the status line. */
export function writeMessage(result: WriteResult, applied: (revision: number) => string): string {
  if ("pending" in result) return `Change request ${result.pending.id} created: waiting for approval`;
  return applied(result.applied.revision);
}

/** Runs an action, keeping its status message or error. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const run = async (action: () => Promise<string>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    setMessage("");
    try {
      setMessage(await action());
      return true;
    } catch (failure) {
      setError(asApiError(failure));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, message, error, run, setError };
}

export function FlagPage({ env, flag }: { env: string; flag: string }) {
  const { api, me } = useSession();
  const data = useResource(
    () =>
      Promise.all([
        api.flag(env, flag),
        api.segments(env).catch(() => [] as SegmentEntry[]),
        api.history(env, flag).catch(() => [] as AuditEntry[]),
        // The list, not GET …/rollouts/KEY: a flag without a rollout would be a 404.
        api.rollouts(env).then(
          (rollouts) => rollouts.some((r) => r.flag === flag),
          () => false,
        ),
      ]),
    [env, flag],
  );
  const action = useAction();
  const [raw, setRaw] = useState(false);

  if (data.error && !data.data) {
    return (
      <section>
        <h1>{flag}</h1>
        <ErrorNote error={data.error} />
        <p>
          <a href={href.flags(env)}>Back to the flags in {env}</a>
        </p>
      </section>
    );
  }
  if (!data.data) return <p class="loading">Loading {flag}…</p>;
  const [entry, segments, history, hasRollout] = data.data;
  const definition = entry.definition;
  const meta = definition.metadata ?? {};
  const writer = canWrite(me.role);
  const done = (text: string) => {
    data.reload();
    return text;
  };

  return (
    <article>
      <p class="muted">
        <a href={href.flags(env)}>Flags in {env}</a> /
      </p>
      <h1>{flag}</h1>
      <div class="actions">
        <StateBadge state={definition.state} />
        <span>
          {definition.type} flag in <strong>{env}</strong>, revision {entry.revision}, changed <Time at={entry.updatedAt} /> by {entry.updatedBy}
        </span>
      </div>
      {meta.description ? <p>{meta.description}</p> : null}
      <dl class="facts">
        {meta.owner ? (
          <>
            <dt>Owner</dt>
            <dd>{meta.owner}</dd>
          </>
        ) : null}
        {meta.tags?.length ? (
          <>
            <dt>Tags</dt>
            <dd>{meta.tags.join(", ")}</dd>
          </>
        ) : null}
        {meta.removeBy ? (
          <>
            <dt>Remove by</dt>
            <dd>
              <Time at={meta.removeBy} />
            </dd>
          </>
        ) : null}
      </dl>
      <div class="actions">
        {hasRollout || definition.state === "canary" ? <a href={href.rollout(env, flag)}>Rollout</a> : null}
        {usesSplit(definition) ? <a href={href.experiment(env, flag)}>Experiment</a> : null}
        <button type="button" class="secondary" aria-pressed={raw} onClick={() => setRaw(!raw)}>
          Raw JSON
        </button>
      </div>
      {raw ? <pre aria-label={`Definition of ${flag}`}>{JSON.stringify(definition, null, 2)}</pre> : null}

      <p role="status" class="success">
        {action.message}
      </p>
      <ErrorNote error={action.error} />
      {writer ? <StateForm env={env} entry={entry} action={action} done={done} /> : null}

      <Variants definition={definition} />
      <Rules entry={entry} segments={segments} />
      <Region title="Targets">
        {definition.targets?.length ? (
          <ol class="rules">
            {definition.targets.map((target, index) => (
              <li key={index}>{targetText(target)}</li>
            ))}
          </ol>
        ) : (
          <p class="muted">No individual targets.</p>
        )}
      </Region>
      <Overrides env={env} entry={entry} writer={writer} action={action} done={done} />
      <History env={env} entry={entry} history={history} writer={writer} action={action} done={done} />
      <EvaluatePanel env={env} flag={flag} />
    </article>
  );
}

type Action = ReturnType<typeof useAction>;

function usesSplit(definition: FlagDefinition): boolean {
  const serves: Serve[] = [definition.fallthrough, ...(definition.rules ?? []).map((r) => r.serve)];
  return serves.some((serve) => serve && "split" in serve);
}

function StateForm({ env, entry, action, done }: { env: string; entry: FlagEntry; action: Action; done: (text: string) => string }) {
  const { api, environments } = useSession();
  const [state, setState] = useState<FlagState>(entry.definition.state);
  const [reason, setReason] = useState("");
  const [percentage, setPercentage] = useState("");
  const [killing, setKilling] = useState(false);
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const body = { state, reason: reason.trim(), baseRevision: entry.revision, ...(percentage !== "" ? { percentage: Number(percentage) } : {}) };
      const result = await api.setState(env, entry.key, body);
      setReason("");
      return done(writeMessage(result, (revision) => `State changed to ${state} (revision ${revision})`));
    });
  };
  return (
    <section class="panel" aria-label="Change state">
      <form onSubmit={submit} class="row">
        <SelectField label="New state" value={state} options={[...FLAG_STATES]} onChange={(value) => setState(value as FlagState)} />
        {state === "canary" || state === "on" ? (
          <div>
            <label for="state-percentage">Percentage (optional)</label>
            <input id="state-percentage" type="number" min="0" max="100" step="any" value={percentage} onInput={(e) => setPercentage(e.currentTarget.value)} />
          </div>
        ) : null}
        <div style="flex: 1 1 16rem">
          <label for="state-reason">Reason</label>
          <input id="state-reason" type="text" required value={reason} onInput={(e) => setReason(e.currentTarget.value)} style="width: 100%" />
        </div>
        <button type="submit" disabled={action.busy || reason.trim() === ""}>
          Change state
        </button>
        <button type="button" class="danger" onClick={() => setKilling(true)}>
          Kill
        </button>
      </form>
      {killing ? <KillDialog env={env} flag={entry.key} environments={environments.map((e) => e.key)} action={action} done={done} onClose={() => setKilling(false)} /> : null}
    </section>
  );
}

interface KillOutcome {
  env: string;
  result: "killed" | "absent" | "failed";
  error?: ApiError;
}

function KillDialog(props: { env: string; flag: string; environments: string[]; action: Action; done: (text: string) => string; onClose: () => void }) {
  const { api } = useSession();
  const [everywhere, setEverywhere] = useState(false);
  const submit = (reason: string) =>
    void props.action
      .run(async () => {
        const kill = (env: string): Promise<KillOutcome> =>
          api.kill(env, props.flag, reason).then(
            () => ({ env, result: "killed" }),
            (error: unknown) => ({ env, result: "failed", error: asApiError(error) }),
          );
        // This environment at once; the others where the flag exists (asking the list
        // first, so an environment without the flag is not a failed request).
        const others = everywhere ? props.environments.filter((e) => e !== props.env) : [];
        const outcomes = await Promise.all([
          kill(props.env),
          ...others.map((env) =>
            api.flags(env).then(
              (flags): Promise<KillOutcome> | KillOutcome => (flags.some((f) => f.key === props.flag) ? kill(env) : { env, result: "absent" }),
              (error: unknown): KillOutcome => ({ env, result: "failed", error: asApiError(error) }),
            ),
          ),
        ]);
        const envs = (result: KillOutcome["result"]) => outcomes.filter((o) => o.result === result);
        const killed = envs("killed").map((o) => o.env);
        const absent = envs("absent").map((o) => o.env);
        const failed = envs("failed");
        if (killed.length === 0 && failed[0]?.error) throw failed[0].error;
        let text = `Killed in ${killed.join(", ")}`;
        if (absent.length) text += `; not present in ${absent.join(", ")}`;
        if (failed.length) text += `; failed in ${failed.map((f) => `${f.env} (${f.error?.message ?? "failed"})`).join(", ")}`;
        return props.done(text);
      })
      .then((ok) => ok && props.onClose());
  return (
    <ReasonDialog
      title={`Kill ${props.flag}`}
      submitLabel="Kill flag"
      danger
      busy={props.action.busy}
      error={props.action.error}
      onSubmit={submit}
      onClose={props.onClose}
      extra={
        <label class="checkbox">
          <input type="checkbox" checked={everywhere} onChange={(e) => setEverywhere(e.currentTarget.checked)} />
          In every environment
        </label>
      }
    >
      <p>Everyone gets the off variant at once. A kill never waits for approval.</p>
    </ReasonDialog>
  );
}

function Variants({ definition }: { definition: FlagDefinition }) {
  const fallthroughVariant = "variant" in definition.fallthrough ? definition.fallthrough.variant : null;
  return (
    <Region title="Variants">
      <DataTable caption="Variant values" hideCaption columns={["Variant", "Value", "Role"]}>
        {Object.entries(definition.variants).map(([name, value]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td>
              <code class="val">{JSON.stringify(value)}</code>
            </td>
            <td>{[name === definition.offVariant ? "off variant" : "", name === fallthroughVariant ? "default when on" : ""].filter(Boolean).join(", ")}</td>
          </tr>
        ))}
      </DataTable>
    </Region>
  );
}

function segmentsIn(condition: Condition | undefined, into: Set<string>): Set<string> {
  if (!condition) return into;
  if ("inSegment" in condition) into.add(condition.inSegment);
  else if ("all" in condition) condition.all.forEach((c) => segmentsIn(c, into));
  else if ("any" in condition) condition.any.forEach((c) => segmentsIn(c, into));
  else if ("not" in condition) segmentsIn(condition.not, into);
  return into;
}

function Rules({ entry, segments }: { entry: FlagEntry; segments: SegmentEntry[] }) {
  const definition = entry.definition;
  const rules = definition.rules ?? [];
  // The segments the rules use, and the segments those use, in order of appearance.
  const byKey = new Map(segments.map((s) => [s.key, s.definition]));
  const used = new Set<string>();
  rules.forEach((rule) => segmentsIn(rule.when, used));
  for (const key of used) segmentsIn(byKey.get(key)?.when, used);
  return (
    <Region title="Rules">
      {definition.prerequisites?.length ? (
        <p>
          Only when{" "}
          {definition.prerequisites.map((p, i) => (
            <span key={p.flag}>
              {i > 0 ? " and " : ""}
              <strong>{p.flag}</strong> serves {p.variants.map((v) => `"${v}"`).join(" or ")}
            </span>
          ))}
          ; otherwise serve "{definition.offVariant}".
        </p>
      ) : null}
      {definition.window ? (
        <p>
          Active {definition.window.from ? <>from <Time at={definition.window.from} /> </> : null}
          {definition.window.until ? <>until <Time at={definition.window.until} /></> : null}.
        </p>
      ) : null}
      {definition.canary ? <p>Canary{definition.state === "canary" ? "" : " (used in state canary)"}: {canaryText(definition.canary, definition.offVariant, entry.standing?.canary)}.</p> : null}
      {rules.length ? (
        <ol class="rules">
          {rules.map((rule) => (
            <li key={rule.id}>
              <strong>{rule.id}</strong>
              {rule.description ? <span class="muted"> — {rule.description}</span> : null}
              <div class="cond">
                If {conditionText(rule.when)}: {serveText(rule.serve)}.
              </div>
            </li>
          ))}
        </ol>
      ) : (
        <p class="muted">No rules.</p>
      )}
      <p>
        {rules.length ? "Otherwise" : "Everyone"}: {serveText(definition.fallthrough)}.
      </p>
      {used.size ? (
        <>
          <h3>Segments used</h3>
          <ul class="plain">
            {[...used].map((key) => {
              const segment = byKey.get(key);
              return (
                <li key={key}>
                  <strong>{key}</strong>
                  {segment ? (
                    <>
                      {segment.description ? <span class="muted"> — {segment.description}</span> : null}
                      <div class="cond">
                        {[
                          segment.included?.length ? `always: ${segment.included.join(", ")}` : "",
                          segment.excluded?.length ? `never: ${segment.excluded.join(", ")}` : "",
                          segment.when ? `${segment.included?.length || segment.excluded?.length ? "otherwise " : ""}when ${conditionText(segment.when)}` : "",
                        ]
                          .filter(Boolean)
                          .join("; ") || "nobody"}
                      </div>
                    </>
                  ) : (
                    <span class="muted"> (not found in this environment)</span>
                  )}
                </li>
              );
            })}
          </ul>
        </>
      ) : null}
    </Region>
  );
}

function Overrides({ env, entry, writer, action, done }: { env: string; entry: FlagEntry; writer: boolean; action: Action; done: (text: string) => string }) {
  const { api } = useSession();
  const overrides = entry.definition.overrides ?? [];
  const [tenant, setTenant] = useState("");
  const [variant, setVariant] = useState("");
  const [expires, setExpires] = useState("");
  const [note, setNote] = useState("");
  const add = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const expiresAt = expires ? fromLocalInput(expires) : null;
      if (expires && !expiresAt) throw new Error("Expires is not a date and time");
      const body = {
        variant: variant.trim(),
        reason: note.trim() || `Override for tenant ${tenant.trim()} from the dashboard`,
        ...(note.trim() ? { note: note.trim() } : {}),
        ...(expiresAt ? { expiresAt } : {}),
      };
      const result = await api.putOverride(env, entry.key, tenant.trim(), body);
      setTenant("");
      setNote("");
      setExpires("");
      return done(writeMessage(result, (revision) => `Override for ${tenant.trim()} added (revision ${revision})`));
    });
  };
  const remove = (name: string) =>
    void action.run(async () => {
      const result = await api.deleteOverride(env, entry.key, name, `Remove the override for tenant ${name} from the dashboard`);
      return done(writeMessage(result, (revision) => `Override for ${name} removed (revision ${revision})`));
    });
  const now = Date.now();
  return (
    <Region title="Overrides">
      {overrides.length ? (
        <ul class="plain">
          {overrides.map((o) => {
            const expired = o.expiresAt !== undefined && Date.parse(o.expiresAt) <= now;
            return (
              <li key={o.tenant}>
                Tenant <strong>{o.tenant}</strong> gets "{o.variant}"{" "}
                {o.expiresAt ? (
                  <span class={expired ? "stale" : "muted"}>
                    {expired ? "expired" : "until"} <Time at={o.expiresAt} />
                  </span>
                ) : (
                  <span class="muted">with no expiry</span>
                )}
                {o.note ? <span class="muted"> — {o.note}</span> : null}{" "}
                {writer ? (
                  <button type="button" class="secondary" aria-label={`Remove override for ${o.tenant}`} onClick={() => remove(o.tenant)} disabled={action.busy}>
                    Remove
                  </button>
                ) : null}
              </li>
            );
          })}
        </ul>
      ) : (
        <p class="muted">No tenant overrides.</p>
      )}
      {writer ? (
        <form class="row" onSubmit={add}>
          <div>
            <label for="override-tenant">Tenant</label>
            <input id="override-tenant" type="text" required value={tenant} onInput={(e) => setTenant(e.currentTarget.value)} />
          </div>
          <div>
            <label for="override-variant">Variant</label>
            <input id="override-variant" type="text" required aria-describedby="override-variants" value={variant} onInput={(e) => setVariant(e.currentTarget.value)} />
            <p id="override-variants" class="hint">One of {Object.keys(entry.definition.variants).join(", ")}</p>
          </div>
          <div>
            <label for="override-expires">Expires</label>
            <input id="override-expires" type="datetime-local" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
          </div>
          <div>
            <label for="override-note">Note</label>
            <input id="override-note" type="text" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          </div>
          <button type="submit" disabled={action.busy}>
            Add override
          </button>
        </form>
      ) : null}
    </Region>
  );
}

function History(props: { env: string; entry: FlagEntry; history: AuditEntry[]; writer: boolean; action: Action; done: (text: string) => string }) {
  const [target, setTarget] = useState<AuditEntry | null>(null);
  const newest = props.history[0]?.revision;
  return (
    <Region title="History">
      {props.history.length === 0 ? <p class="muted">No history.</p> : null}
      <ol class="plain">
        {props.history.map((item) => (
          <li key={item.seq} class="history-item">
            <strong>Revision {item.revision ?? "—"}</strong> · {item.action} by {item.principal} · <Time at={item.at} />
            {item.reason ? <div>“{item.reason}”</div> : null}
            <details>
              <summary>What changed</summary>
              <DiffList before={item.before} after={item.after} />
            </details>
            {props.writer && item.revision != null && item.revision !== newest && item.after !== undefined ? (
              <button type="button" class="secondary" onClick={() => setTarget(item)}>
                Roll back to revision {item.revision}
              </button>
            ) : null}
          </li>
        ))}
      </ol>
      {target ? <RollbackDialog {...props} target={target} onClose={() => setTarget(null)} /> : null}
    </Region>
  );
}

function RollbackDialog(props: { env: string; entry: FlagEntry; target: AuditEntry; action: Action; done: (text: string) => string; onClose: () => void }) {
  const { api } = useSession();
  const revision = props.target.revision!;
  const submit = (reason: string) =>
    void props.action
      .run(async () => {
        const result = await api.rollback(props.env, props.entry.key, { toRevision: revision, reason, baseRevision: props.entry.revision });
        return props.done(writeMessage(result, (now) => `Rolled back to revision ${revision} (revision ${now})`));
      })
      .then((ok) => ok && props.onClose());
  return (
    <ReasonDialog
      title={`Roll back ${props.entry.key} to revision ${revision}`}
      submitLabel="Roll back"
      busy={props.action.busy}
      error={props.action.error}
      onSubmit={submit}
      onClose={props.onClose}
    >
      <p>The flag's definition goes back to what it was at revision {revision}. What changes from now:</p>
      <DiffList before={props.entry.definition} after={props.target.after} label="Changes of the rollback" />
    </ReasonDialog>
  );
}

function EvaluatePanel({ env, flag }: { env: string; flag: string }) {
  const { api } = useSession();
  const [text, setText] = useState('{\n  "targetingKey": "user-1"\n}');
  const [result, setResult] = useState<Evaluation | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    let context: unknown;
    try {
      context = JSON.parse(text);
    } catch (failure) {
      setResult(null);
      setError(asApiError(new Error(`The context is not JSON: ${String(failure instanceof Error ? failure.message : failure)}`)));
      return;
    }
    try {
      setResult(await api.evaluate(env, flag, context));
    } catch (failure) {
      setResult(null);
      setError(asApiError(failure));
    }
  };
  return (
    <Region title="Evaluate">
      <form onSubmit={submit}>
        <label for="evaluate-context">Context (JSON)</label>
        <textarea id="evaluate-context" value={text} onInput={(e) => setText(e.currentTarget.value)} spellcheck={false} />
        <div class="actions">
          <button type="submit">Evaluate</button>
        </div>
      </form>
      <ErrorNote error={error} />
      <section aria-label="Evaluation result" aria-live="polite">
        {result ? (
          <dl class="facts">
            <dt>Value</dt>
            <dd>
              <code class="val">{JSON.stringify(result.value)}</code>
            </dd>
            <dt>Variant</dt>
            <dd>{result.variant ?? "—"}</dd>
            <dt>Reason</dt>
            <dd>
              {result.reason}
              {result.errorCode ? ` (${result.errorCode}: ${result.errorMessage ?? ""})` : ""}
              {result.shadowVariant ? ` (the on path would serve ${literal(result.shadowVariant)})` : ""}
            </dd>
            <dt>Rule</dt>
            <dd>{result.ruleId ?? "—"}</dd>
            <dt>Stage</dt>
            <dd>{result.stage ?? "—"}</dd>
          </dl>
        ) : null}
      </section>
    </Region>
  );
}
