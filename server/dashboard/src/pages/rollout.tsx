// The rollout page (#/env/E/rollouts/KEY): where a guarded rollout stands, the plan's
// stages drawn over time, canary against control for error rate and latency p95 with
// the thresholds core judged against and the decisions on the same time axis, the
// numbers in tables, the history, and pause / resume / promote / abort.
import { useEffect, useId, useState } from "preact/hooks";
import type { ApiError, RolloutView } from "../api.ts";
import { StateBadge } from "../components/badge.tsx";
import { ReasonDialog } from "../components/dialog.tsx";
import { SelectField } from "../components/field.tsx";
import { ErrorNote } from "../components/error.tsx";
import { Time } from "../components/time.tsx";
import { durationText } from "../describe.ts";
import { asApiError, useResource } from "../hooks.ts";
import { href } from "../router.ts";
import { useSession } from "../session.ts";
import { DataTable } from "../components/table.tsx";
import { ROLLOUT_ACTIONS, enabledActions, type RolloutAction } from "../charts/controls.ts";
import { formatCount, formatMs, formatPercentage, formatRate, formatRequests, words } from "../charts/format.ts";
import {
  aboveThreshold,
  canaryValue,
  chartData,
  controlValue,
  decisions,
  isActive,
  latestPoint,
  stageBands,
  stageNumber,
  thresholdNames,
  thresholdsOf,
  type Decision,
  type Metric,
  type RolloutSeries,
} from "../charts/series.ts";
import { TimeChart, type Line } from "../charts/timechart.tsx";

/** How often the series is fetched again while the rollout is active (ms). */
const POLL_MS = 5000;

const METRICS: { metric: Metric; figure: string; table: string; format: (value: number | null) => string }[] = [
  { metric: "errorRate", figure: "Error rate: canary vs control", table: "Error rate over time", format: (v) => formatRate(v) },
  { metric: "p95", figure: "Latency p95: canary vs control", table: "Latency p95 over time", format: formatMs },
];

const SERIES_COLUMNS = ["Time", "Stage", "Canary", "Control", "Threshold", { label: "Requests (canary/control)", num: true }, "Verdict"];

const LINE_STYLES: Record<string, Omit<Line, "label">> = {
  canary: { stroke: "#c2410c", width: 2.5, points: true },
  control: { stroke: "#1d4ed8", width: 2 },
  threshold: { stroke: "#374151", width: 1.5, dash: [6, 4] },
  guard: { stroke: "#7e22ce", width: 1.5, dash: [2, 3] },
};

const LINE_LABELS: Record<string, string> = {
  canary: "Canary",
  control: "Control",
  threshold: "Threshold",
  guard: "Guard (max error rate)",
};

const ROLLBACK_CHOICES: [string, string][] = [
  ["", "As the plan says"],
  ["gradual", "Gradual (canary to 0 %)"],
  ["immediate", "Immediate (flag off)"],
  ["kill", "Kill"],
];

const PAST: Record<RolloutAction, string> = { pause: "paused", resume: "resumed", promote: "promoted", abort: "aborted" };
const LABEL: Record<RolloutAction, string> = { pause: "Pause", resume: "Resume", promote: "Promote", abort: "Abort" };

/** A plan stage as the API returns it (server `rollout::Stage`). */
interface PlanStage {
  percentage: number;
  minDuration?: string;
  minRequests?: number;
  approval?: boolean;
  maxErrorRate?: number;
}

function MetricFigure({ series, spec, markers }: { series: RolloutSeries; spec: (typeof METRICS)[number]; markers: Decision[] }) {
  const [tableShown, setTableShown] = useState(true);
  const id = useId();
  const names = thresholdNames(series, spec.metric);
  const lines = ["canary", "control", ...names].map((name) => ({ label: LINE_LABELS[name] ?? name, ...LINE_STYLES[name]! }));
  const latest = latestPoint(series);
  const points = [...series.points].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const data = chartData(series, spec.metric);
  const measured = points.some((point) => canaryValue(point, spec.metric) !== null || controlValue(point, spec.metric) !== null);
  return (
    <figure class="rollout-figure">
      <figcaption>{spec.figure}</figcaption>
      {points.length && !measured ? (
        <p class="muted">
          {spec.metric === "p95" ? "No latencies recorded yet: SDKs send them when the application records latencyMs with its outcomes." : "No requests recorded yet."}
        </p>
      ) : null}
      {points.length ? (
        <TimeChart data={data} lines={lines} bands={stageBands(series)} markers={markers} format={spec.format} />
      ) : (
        <p class="muted">No judgement yet: the first point appears once the controller has looked at the stage.</p>
      )}
      {latest ? (
        <p class="sample-sizes">
          Sample now (stage {stageNumber(series, latest.stage)}, {formatPercentage(latest.percentage)}): canary {formatCount(latest.canary.requests)}{" "}
          requests, control {formatCount(latest.control.requests)} requests; verdict {words(latest.verdict)}.
        </p>
      ) : null}
      <p class="muted chart-note">
        {spec.metric === "errorRate"
          ? "The threshold is the control's rate plus the tolerance; the verdict comes from the always-valid test (docs/judgement.md), so a canary briefly above the line early in a stage is not yet unhealthy. The guard, when set, rolls back at once."
          : "The threshold is the highest canary p95 the latency criterion accepts: the control's p95 plus the allowed increase, or times the allowed ratio, whichever is lower."}
      </p>
      <button type="button" class="link" aria-expanded={tableShown} aria-controls={id} onClick={() => setTableShown(!tableShown)}>
        {tableShown ? "Hide the numbers" : "Show the numbers"}
      </button>
      <div id={id} class={tableShown ? "series-table" : "series-table visually-hidden"}>
        <DataTable caption={spec.table} hideCaption columns={SERIES_COLUMNS}>
            {points.map((point, index) => {
              const above = aboveThreshold(point, spec.metric);
              return (
                <tr key={`${point.at}-${index}`} class={above ? "above" : undefined}>
                  <td>
                    <Time at={point.at} />
                  </td>
                  <td>
                    {stageNumber(series, point.stage)} ({formatPercentage(point.percentage)})
                  </td>
                  <td>
                    {spec.format(canaryValue(point, spec.metric))}
                    {above ? <strong class="above-threshold"> above threshold{above.name === "guard" ? " (guard)" : ""}</strong> : null}
                  </td>
                  <td>{spec.format(controlValue(point, spec.metric))}</td>
                  <td>
                    {thresholdsOf(point, spec.metric)
                      .map((line) => (line.name === "guard" ? `guard ${spec.format(line.value)}` : spec.format(line.value)))
                      .join(" · ") || "—"}
                  </td>
                  <td class="num">{formatRequests(point.canary.requests, point.control.requests)}</td>
                  <td>{words(point.verdict)}</td>
                </tr>
              );
            })}
        </DataTable>
      </div>
    </figure>
  );
}

function Stages({ rollout, series }: { rollout: RolloutView; series: RolloutSeries | undefined }) {
  const id = useId();
  const plan = (rollout.plan.stages ?? []) as PlanStage[];
  const timed = series ? [...series.stages].sort((a, b) => a.index - b.index) : [];
  return (
    <section class="rollout-stages">
      <h2 id={id}>Stages</h2>
      <ol aria-labelledby={id} class="stages">
        {plan.map((stage, i) => {
          const current = i + 1 === rollout.stage;
          const times = timed[i];
          const done = times?.endedAt || (rollout.status === "completed" && !current) || i + 1 < rollout.stage;
          return (
            <li key={i} aria-current={current ? "step" : undefined} class={current ? "stage current" : done ? "stage done" : "stage"}>
              <span class="stage-name">
                Stage {i + 1}: {formatPercentage(stage.percentage)}
              </span>
              <span class="stage-detail">
                {[
                  stage.minDuration ? `at least ${durationText(stage.minDuration)}` : null,
                  stage.minRequests ? `${formatCount(stage.minRequests)} requests per cohort` : null,
                  stage.maxErrorRate !== undefined ? `guard ${formatRate(stage.maxErrorRate)}` : null,
                  stage.approval ? "needs approval" : null,
                ]
                  .filter(Boolean)
                  .join(" · ")}
              </span>
              {times?.startedAt ? (
                <span class="stage-times">
                  from <Time at={times.startedAt} />
                  {times.endedAt ? (
                    <>
                      {" "}
                      to <Time at={times.endedAt} />
                    </>
                  ) : null}
                </span>
              ) : null}
              {current ? <span class="stage-now"> — {isActive(rollout.status) ? "now" : words(rollout.status)}</span> : null}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function Decisions({ list }: { list: Decision[] }) {
  const id = useId();
  return (
    <section class="rollout-decisions">
      <h2 id={id}>Decisions</h2>
      {list.length === 0 ? <p class="muted">None yet.</p> : null}
      <ol aria-labelledby={id} class="decisions">
        {[...list].reverse().map((decision) => (
          <li key={decision.seq} class={`decision decision-${decision.action}`}>
            <strong>{words(decision.action)}</strong>
            {decision.stage !== null ? ` — stage ${decision.stage}` : ""}
            {decision.percentage !== null ? ` (${formatPercentage(decision.percentage)})` : ""} — by {decision.principal || "unknown"}
            {decision.reason ? <span class="decision-reason">: {decision.reason}</span> : null} — <Time at={decision.at} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function AbortDialog({ flag, onClose, onAbort }: { flag: string; onClose: () => void; onAbort: (body: Record<string, unknown>) => Promise<ApiError | null> }) {
  const [rollback, setRollback] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (reason: string) => {
    setBusy(true);
    const failure = await onAbort(rollback ? { reason, rollback } : { reason });
    setBusy(false);
    setError(failure);
    if (!failure) onClose();
  };
  return (
    <ReasonDialog
      title={`Abort the rollout of ${flag}`}
      submitLabel="Abort rollout"
      danger
      busy={busy}
      error={error}
      onSubmit={(reason) => void submit(reason)}
      onClose={onClose}
      extra={<SelectField label="Roll back" value={rollback} options={ROLLBACK_CHOICES} onChange={setRollback} />}
    >
      <p>The canary is rolled back now, as the plan says unless you choose otherwise below.</p>
    </ReasonDialog>
  );
}

export function RolloutPage({ env, flag }: { env: string; flag: string }) {
  const { api, me, environments } = useSession();
  const rollout = useResource(() => api.rollout(env, flag), [env, flag]);
  const series = useResource(() => api.rolloutSeries(env, flag) as Promise<unknown> as Promise<RolloutSeries>, [env, flag]);
  const [aborting, setAborting] = useState(false);
  const [note, setNote] = useState("");
  const [message, setMessage] = useState("");
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const noteId = useId();
  const status = rollout.data?.status ?? series.data?.state ?? "";
  const active = isActive(status);

  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => {
      series.reload();
      rollout.reload();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [active, series.reload, rollout.reload]);

  const protectedEnvironment = environments.find((environment) => environment.key === env)?.protected ?? false;
  const enabled = enabledActions(status, me.role, protectedEnvironment);

  /** Runs an action; the error, or null once it is done. */
  async function act(action: RolloutAction, body: Record<string, unknown>): Promise<ApiError | null> {
    setActionError(null);
    setMessage("");
    try {
      const after = await api.rolloutAction(env, flag, action, body);
      setMessage(`Rollout ${PAST[action]}: ${words(after.status)}, stage ${after.stage} of ${after.stages} at ${formatPercentage(after.percentage)}.`);
      setNote("");
      rollout.reload();
      series.reload();
      return null;
    } catch (error) {
      const failure = asApiError(error);
      if (action !== "abort") setActionError(failure);
      return failure;
    }
  }

  const data = rollout.data;
  const events = series.data?.events?.length ? series.data.events : (data?.events ?? []);
  const list = decisions(events as Parameters<typeof decisions>[0]);
  return (
    <section class="rollout-page">
      <h1>Rollout of {flag}</h1>
      <p class="rollout-summary">
        {status ? <StateBadge state={status} /> : null}
        {data ? (
          <>
            {" "}
            in {env}: stage {data.stage} of {data.stages} at {formatPercentage(data.percentage)}; canary <code>{data.canaryVariant}</code> against control{" "}
            <code>{data.controlVariant}</code>; started by {data.startedBy} <Time at={data.startedAt} />
            {data.earliestAdvanceAt ? (
              <>
                ; may advance from <Time at={data.earliestAdvanceAt} />
              </>
            ) : null}
            .
          </>
        ) : null}{" "}
        <a href={href.flag(env, flag)}>Flag {flag}</a>
      </p>
      {data?.status === "awaiting_approval" ? (
        <p class="notice">
          Stage {data.stage + 1} asks for approval: Promote enters it{protectedEnvironment ? " (an admin other than the one who started the rollout)" : ""}.
        </p>
      ) : null}
      <ErrorNote error={rollout.error} />
      {rollout.loading && !data ? <p class="muted">Loading…</p> : null}
      {data ? (
        <>
          <div class="rollout-actions">
            <label for={noteId}>Why (for pause, resume, promote)</label>
            <input id={noteId} type="text" value={note} onInput={(event) => setNote(event.currentTarget.value)} />
            <div class="button-row">
              {ROLLOUT_ACTIONS.map((action) => (
                <button
                  key={action}
                  type="button"
                  class={action === "abort" ? "danger" : undefined}
                  disabled={!enabled[action]}
                  onClick={() => (action === "abort" ? setAborting(true) : void act(action, note.trim() ? { reason: note.trim() } : {}))}
                >
                  {LABEL[action]}
                </button>
              ))}
            </div>
            <p role="status" class="action-status">
              {message}
            </p>
            <ErrorNote error={actionError} />
          </div>
          <Stages rollout={data} series={series.data} />
        </>
      ) : null}
      {series.error && !rollout.error ? <ErrorNote error={series.error} /> : null}
      {series.data ? METRICS.map((spec) => <MetricFigure key={spec.metric} series={series.data!} spec={spec} markers={list} />) : null}
      {data || series.data ? <Decisions list={list} /> : null}
      {aborting ? <AbortDialog flag={flag} onClose={() => setAborting(false)} onAbort={(body) => act("abort", body)} /> : null}
    </section>
  );
}
