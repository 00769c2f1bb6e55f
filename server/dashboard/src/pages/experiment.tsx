// The experiment page (#/env/E/experiments/KEY): per variant exposures, conversions,
// conversion rate, lift over the control with its always-valid interval and p-value
// (core's `judgement::experiment`, through GET …/experiments/{key}), an interval plot,
// and the sample-ratio-mismatch warning.
import { useId, useState } from "preact/hooks";
import { ErrorNote } from "../components/error.tsx";
import { Time } from "../components/time.tsx";
import { useResource } from "../hooks.ts";
import { href } from "../router.ts";
import { useSession } from "../session.ts";
import { DataTable } from "../components/table.tsx";
import { mismatchText, noExposures, variantRows, type ExperimentResults } from "../charts/experiment.ts";
import { IntervalPlot } from "../charts/intervals.tsx";
import { formatPValue } from "../charts/format.ts";

const VARIANT_COLUMNS = ["Variant", ...["Exposures", "Conversions", "Rate", "Lift", "Interval", "p-value"].map((label) => ({ label, num: true }))];

export function ExperimentPage({ env, flag }: { env: string; flag: string }) {
  const { api } = useSession();
  const [control, setControl] = useState("");
  const results = useResource(
    () => api.experiment(env, flag, control ? { control } : undefined) as Promise<ExperimentResults>,
    [env, flag, control],
  );
  const controlId = useId();
  const data = results.data;
  const rows = data ? variantRows(data) : [];
  const mismatch = data ? mismatchText(data) : null;
  const otherWarnings = (data?.warnings ?? []).filter((warning) => !warning.startsWith("sample ratio mismatch"));
  return (
    <section class="experiment-page">
      <h1>Experiment {flag}</h1>
      <p>
        In {env}
        {data ? (
          <>
            , from <Time at={data.from} /> to <Time at={data.to} />; each variant against <code>{data.control}</code> at α = {data.alpha}
          </>
        ) : null}
        . <a href={href.flag(env, flag)}>Flag {flag}</a>
      </p>
      <ErrorNote error={results.error} />
      {results.loading && !data ? <p class="muted">Loading…</p> : null}
      {mismatch ? (
        <p role="alert" class="warning">
          {mismatch}
        </p>
      ) : null}
      {otherWarnings.length ? (
        <ul class="warnings">
          {otherWarnings.map((warning) => (
            <li key={warning}>{warning}</li>
          ))}
        </ul>
      ) : null}
      {data && noExposures(data) ? (
        <p class="muted">No exposures in this window yet: SDKs report them with their outcomes (POST /sdk/v1/metrics) every metrics interval.</p>
      ) : null}
      {data ? (
        <>
          <div class="experiment-control">
            <label for={controlId}>Compare with</label>
            <select id={controlId} value={control || data.control} onChange={(event) => setControl(event.currentTarget.value)}>
              {data.variants.map((variant) => (
                <option key={variant.variant} value={variant.variant}>
                  {variant.variant}
                </option>
              ))}
            </select>
          </div>
          <DataTable caption="Variants" hideCaption columns={VARIANT_COLUMNS}>
                {rows.map((row) => (
                  <tr key={row.variant} class={row.control ? "control" : undefined}>
                    <th scope="row">
                      <code>{row.variant}</code>
                    </th>
                    <td class="num">{row.exposures}</td>
                    <td class="num">{row.conversions}</td>
                    <td class="num">{row.rate}</td>
                    <td class="num">{row.lift}</td>
                    <td class="num">{row.interval}</td>
                    <td class="num">{row.pValue}</td>
                  </tr>
                ))}
          </DataTable>
          {noExposures(data) ? null : (
            <figure class="experiment-figure">
              <figcaption>Lift over the control, with {Math.round((1 - data.alpha) * 100)} % always-valid intervals</figcaption>
              <IntervalPlot rows={rows} />
            </figure>
          )}
          {data.sampleRatio && !data.sampleRatio.mismatch ? (
            <p class="muted">
              The exposures follow the promised split (sample-ratio χ² = {data.sampleRatio.chi2.toFixed(1)}, p = {formatPValue(data.sampleRatio.pValue)}).
            </p>
          ) : null}
          {data.method ? <p class="muted method">Method: {data.method}.</p> : null}
        </>
      ) : null}
    </section>
  );
}
