// Hash routes (the server serves only `/` and `/assets/*`):
// #/signin, #/flags?env=E&q=…, #/compare, #/env/E/flags/KEY, #/env/E/rollouts/KEY,
// #/env/E/experiments/KEY, #/approvals, #/audit?…
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "signin" }
  | { page: "flags"; env?: string; params: URLSearchParams }
  | { page: "compare" }
  | { page: "flag" | "rollout" | "experiment"; env: string; key: string }
  | { page: "approvals" }
  | { page: "audit"; params: URLSearchParams }
  | { page: "notfound"; path: string };

const scoped = { flags: "flag", rollouts: "rollout", experiments: "experiment" } as const;

export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#/, "") || "/flags";
  const [rawPath = "", search = ""] = text.split("?", 2);
  const params = new URLSearchParams(search);
  const parts = rawPath.split("/").filter(Boolean).map(decodeURIComponent);
  const [first, env, kind, key] = parts;
  if (parts.length === 0) return { page: "flags", params };
  if (parts.length === 1) {
    if (first === "signin") return { page: "signin" };
    if (first === "flags") {
      const e = params.get("env");
      return e ? { page: "flags", env: e, params } : { page: "flags", params };
    }
    if (first === "compare") return { page: "compare" };
    if (first === "approvals") return { page: "approvals" };
    if (first === "audit") return { page: "audit", params };
  }
  if (parts.length === 4 && first === "env" && env && key && kind && kind in scoped) {
    return { page: scoped[kind as keyof typeof scoped], env, key };
  }
  return { page: "notfound", path: rawPath };
}

const enc = encodeURIComponent;

/** Builds hrefs; query values that are empty are left out. */
export const href = {
  signin: () => "#/signin",
  flags: (env?: string, query: Record<string, string> = {}) => {
    const params = new URLSearchParams();
    if (env) params.set("env", env);
    for (const [name, value] of Object.entries(query)) if (value) params.set(name, value);
    const text = params.toString();
    return text ? `#/flags?${text}` : "#/flags";
  },
  compare: () => "#/compare",
  flag: (env: string, key: string) => `#/env/${enc(env)}/flags/${enc(key)}`,
  rollout: (env: string, key: string) => `#/env/${enc(env)}/rollouts/${enc(key)}`,
  experiment: (env: string, key: string) => `#/env/${enc(env)}/experiments/${enc(key)}`,
  approvals: () => "#/approvals",
  audit: (query: Record<string, string> = {}) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value) params.set(name, value);
    const text = params.toString();
    return text ? `#/audit?${text}` : "#/audit";
  },
};

/** Replaces the current history entry (filters typed into a form). */
export function replaceHash(hash: string): void {
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

export function navigate(hash: string): void {
  location.hash = hash;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}

/** The document title of a route (`checkout.new-flow in production · Pennon`). */
export function routeTitle(route: Route, env?: string): string {
  const where = (text: string, e?: string) => `${text}${e ? ` in ${e}` : ""} · Pennon`;
  switch (route.page) {
    case "signin":
      return "Sign in · Pennon";
    case "flags":
      return where("Flags", env);
    case "compare":
      return "Compare environments · Pennon";
    case "flag":
      return where(route.key, route.env);
    case "rollout":
      return where(`Rollout of ${route.key}`, route.env);
    case "experiment":
      return where(`Experiment ${route.key}`, route.env);
    case "approvals":
      return "Approvals · Pennon";
    case "audit":
      return "Audit trail · Pennon";
    default:
      return "Not found · Pennon";
  }
}
