// What every page shares: the signed-in session and the live-update counter.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Api, Environment, Me, Role } from "./api.ts";

export interface Session {
  api: Api;
  me: Me;
  environments: Environment[];
}

export const SessionContext = createContext<Session | null>(null);
/** Grows by one whenever the live feed says something changed (or it reconnected). */
export const LiveContext = createContext(0);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in page");
  return session;
}

export function useLive(): number {
  return useContext(LiveContext);
}

/** Developers and admins change flags; viewers only look. */
export function canWrite(role: Role): boolean {
  return role === "admin" || role === "developer";
}

/** Only admins approve change requests. */
export function canApprove(role: Role): boolean {
  return role === "admin";
}
