// Which of a rollout's actions (pause, resume, promote, abort) a caller may take now,
// as docs/control-plane.md "Safe rollouts" says: acting on a rollout that is not active is
// refused; pause and abort are the safe direction (any developer); resume and promote
// widen exposure (an admin in a protected environment). The server decides in the end;
// this only keeps buttons that cannot work disabled.

export type RolloutAction = "pause" | "resume" | "promote" | "abort";

export const ROLLOUT_ACTIONS: readonly RolloutAction[] = ["pause", "resume", "promote", "abort"];

function rank(role: string | null | undefined): number {
  return role === "admin" ? 2 : role === "developer" ? 1 : 0;
}

/** The actions enabled for `role` on a rollout in `status`, in an environment that is `protected` or not. */
export function enabledActions(
  status: string,
  role: string | null | undefined,
  protectedEnvironment: boolean,
): Record<RolloutAction, boolean> {
  const writer = rank(role) >= 1;
  const widener = protectedEnvironment ? rank(role) >= 2 : writer;
  const running = status === "running";
  const paused = status === "paused";
  const awaiting = status === "awaiting_approval";
  return {
    pause: writer && (running || awaiting),
    resume: widener && paused,
    promote: widener && (running || paused || awaiting),
    abort: writer && (running || paused || awaiting),
  };
}

/** The endpoint of an action: POST /api/v1/environments/{env}/rollouts/{key}/{action}. */
export function actionPath(environment: string, flag: string, action: RolloutAction): string {
  return `/api/v1/environments/${encodeURIComponent(environment)}/rollouts/${encodeURIComponent(flag)}/${action}`;
}
