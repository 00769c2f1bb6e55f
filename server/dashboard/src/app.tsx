// The shell: sign-in gate, banner (principal, role, live status, sign out), the "Main"
// navigation, the environment switcher on environment pages, the live region, and the
// page the route names.
import { useEffect, useRef, useState } from "preact/hooks";
import { Api, type ApiError, type Environment, type Me, storedToken, storeToken } from "./api.ts";
import { ErrorNote } from "./components/error.tsx";
import { type FeedStatus, follow } from "./events.ts";
import { asApiError } from "./hooks.ts";
import { ApprovalsPage } from "./pages/approvals.tsx";
import { AuditPage } from "./pages/audit.tsx";
import { ComparePage } from "./pages/compare.tsx";
import { ExperimentPage } from "./pages/experiment.tsx";
import { FlagPage } from "./pages/flag.tsx";
import { FlagsPage } from "./pages/flags.tsx";
import { RolloutPage } from "./pages/rollout.tsx";
import { SignInPage } from "./pages/signin.tsx";
import { href, navigate, type Route, routeTitle, useRoute } from "./router.ts";
import { LiveContext, type Session, SessionContext } from "./session.ts";

const ENV_KEY = "pennon.environment";

function preferredEnvironment(environments: Environment[]): string | undefined {
  const stored = sessionStorage.getItem(ENV_KEY);
  if (stored && environments.some((e) => e.key === stored)) return stored;
  return environments[0]?.key;
}

/** The environment a route is about, if it is an environment page. */
function routeEnvironment(route: Route, environments: Environment[]): string | undefined {
  if (route.page === "flags") return route.env ?? preferredEnvironment(environments);
  if (route.page === "flag" || route.page === "rollout" || route.page === "experiment") return route.env;
  return undefined;
}

/** The same page in another environment. */
function switchEnvironment(route: Route, env: string): string {
  switch (route.page) {
    case "flag":
      return href.flag(env, route.key);
    case "rollout":
      return href.rollout(env, route.key);
    case "experiment":
      return href.experiment(env, route.key);
    default:
      return href.flags(env, route.page === "flags" ? Object.fromEntries(route.params) : {});
  }
}

const feedText: Record<FeedStatus, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  unavailable: "Live updates unavailable",
  stopped: "Not live",
};

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => storedToken() !== null);
  const [notice, setNotice] = useState<string | undefined>();
  const [startError, setStartError] = useState<ApiError | null>(null);

  const signedIn = (api: Api, me: Me, environments: Environment[]) => {
    storeToken(api.token);
    api.onUnauthorized = () => signOut("Your token is no longer valid (revoked?): sign in again.");
    setSession({ api, me, environments });
    setNotice(undefined);
    if (route.page === "signin") navigate(href.flags());
  };
  const signOut = (message?: string) => {
    storeToken(null);
    setSession(null);
    setNotice(message);
    navigate(href.signin());
  };

  // A token kept in this tab signs in again on reload.
  useEffect(() => {
    const token = storedToken();
    if (!token) return;
    const api = new Api(token);
    Promise.all([api.me(), api.environments()])
      .then(([me, environments]) => signedIn(api, me, environments))
      .catch((error: unknown) => {
        const failure = asApiError(error);
        if (failure.status === 401) signOut("Your token is no longer valid: sign in again.");
        else setStartError(failure);
      })
      .finally(() => setRestoring(false));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  if (restoring) return <p class="loading">Signing in…</p>;
  if (startError) return <ErrorNote error={startError} />;
  if (!session || route.page === "signin") {
    return <SignInPage onSignedIn={signedIn} {...(notice ? { notice } : {})} />;
  }
  return <Shell session={session} route={route} onSignOut={() => signOut()} />;
}

function Shell({ session, route, onSignOut }: { session: Session; route: Route; onSignOut: () => void }) {
  const [version, setVersion] = useState(0);
  const [feed, setFeed] = useState<{ status: FeedStatus; detail?: string }>({ status: "connecting" });
  const [announcement, setAnnouncement] = useState("");
  const pending = useRef<number | undefined>(undefined);

  useEffect(() => {
    // Several events in a burst (an import, a rollout step) refresh the page once.
    const refresh = () => {
      if (pending.current !== undefined) return;
      pending.current = window.setTimeout(() => {
        pending.current = undefined;
        setVersion((v) => v + 1);
        setAnnouncement("");
        window.setTimeout(() => setAnnouncement("Updated"), 50);
      }, 250);
    };
    const stop = follow(session.api.token, {
      onEvent: refresh,
      onOpen: (reconnected) => reconnected && refresh(),
      onStatus: (status, detail) => setFeed(detail === undefined ? { status } : { status, detail }),
      onUnauthorized: () => session.api.onUnauthorized?.(),
    });
    return () => {
      stop();
      window.clearTimeout(pending.current);
    };
  }, [session.api.token]);

  const env = routeEnvironment(route, session.environments);
  useEffect(() => {
    if (env) sessionStorage.setItem(ENV_KEY, env);
  }, [env]);
  // A new page: say so in the title, and move focus to it (as a page load would), except
  // on the first page.
  const title = routeTitle(route, env);
  const first = useRef(true);
  useEffect(() => {
    document.title = title;
    if (first.current) first.current = false;
    else document.getElementById("main")?.focus({ preventScroll: false });
  }, [title]);

  const current = (page: string) => (route.page === page || (page === "flags" && route.page === "flag") ? "page" : undefined);
  return (
    <SessionContext.Provider value={session}>
      <LiveContext.Provider value={version}>
        <a class="skip" href="#main" onClick={(event) => { event.preventDefault(); document.getElementById("main")?.focus(); }}>
          Skip to content
        </a>
        <header class="banner">
          <span class="brand">Pennon</span>
          <nav aria-label="Main">
            <a href={href.flags(env)} aria-current={current("flags")}>Flags</a>
            <a href={href.compare()} aria-current={current("compare")}>Compare</a>
            <a href={href.approvals()} aria-current={current("approvals")}>Approvals</a>
            <a href={href.audit()} aria-current={current("audit")}>Audit</a>
          </nav>
          {env ? (
            <label class="env-switch">
              <span>Environment</span>
              <select value={env} onChange={(event) => navigate(switchEnvironment(route, event.currentTarget.value))}>
                {session.environments.map((e) => (
                  <option value={e.key} key={e.key}>
                    {e.key}
                    {e.protected ? " (protected)" : ""}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          <span class="who">
            <span class="principal">{session.me.principal}</span> <span class="role">{session.me.role}</span>
          </span>
          <span class={`feed feed-${feed.status}`} title={feed.detail ?? ""}>
            {feedText[feed.status]}
          </span>
          <button type="button" class="secondary" onClick={onSignOut}>
            Sign out
          </button>
        </header>
        {feed.status === "unavailable" ? (
          <p class="notice">Live updates are unavailable: {feed.detail ?? "the server has no event stream"}. Pages refresh when you act or reload.</p>
        ) : null}
        <div role="status" class="visually-hidden" aria-live="polite">
          {announcement}
        </div>
        <main id="main" tabIndex={-1}>
          <Page route={route} env={env} />
        </main>
      </LiveContext.Provider>
    </SessionContext.Provider>
  );
}

function Page({ route, env }: { route: Route; env: string | undefined }) {
  switch (route.page) {
    case "flags":
      return env ? <FlagsPage env={env} params={route.params} /> : <p>There are no environments yet.</p>;
    case "compare":
      return <ComparePage />;
    case "flag":
      return <FlagPage env={route.env} flag={route.key} />;
    case "rollout":
      return <RolloutPage env={route.env} flag={route.key} />;
    case "experiment":
      return <ExperimentPage env={route.env} flag={route.key} />;
    case "approvals":
      return <ApprovalsPage />;
    case "audit":
      return <AuditPage params={route.params} />;
    default:
      return (
        <section>
          <h1>Page not found</h1>
          <p>
            Nothing lives at this address. <a href={href.flags()}>Go to the flags</a>.
          </p>
        </section>
      );
  }
}
