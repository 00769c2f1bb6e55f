// Owned by helper ui-b (this stub keeps the router compiling until it lands).
export function ExperimentPage({ env, flag }: { env: string; flag: string }) {
  return (
    <section>
      <h1>Experiment {flag}</h1>
      <p class="muted">Environment {env}.</p>
    </section>
  );
}
