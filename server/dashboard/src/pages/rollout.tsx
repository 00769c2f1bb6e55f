// Owned by helper ui-b (this stub keeps the router compiling until it lands).
export function RolloutPage({ env, flag }: { env: string; flag: string }) {
  return (
    <section>
      <h1>Rollout of {flag}</h1>
      <p class="muted">Environment {env}.</p>
    </section>
  );
}
