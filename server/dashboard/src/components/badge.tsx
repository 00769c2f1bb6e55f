/** A state word in a coloured badge: flag states (off … kill) and rollout states. */
export function StateBadge({ state }: { state: string }) {
  return <span class={`badge badge-${state.replace(/[^a-z_]/g, "")}`}>{state}</span>;
}
