import { useState } from "preact/hooks";
import { Api, type ApiError, type Environment, type Me } from "../api.ts";
import { ErrorNote } from "../components/error.tsx";
import { asApiError } from "../hooks.ts";

/** Checks a token with GET /me and hands the session up. */
export function SignInPage({ onSignedIn, notice }: { onSignedIn: (api: Api, me: Me, environments: Environment[]) => void; notice?: string }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const api = new Api(token.trim());
      const me = await api.me();
      if (me.role === "sdk") throw new Error("This is an SDK key: the dashboard needs an admin, developer or viewer token.");
      onSignedIn(api, me, await api.environments());
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <h1>Sign in to Pennon</h1>
      {notice ? <p class="notice">{notice}</p> : null}
      <form onSubmit={submit}>
        <label for="token">Access token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        <p class="hint">An admin, developer or viewer token (`pennon token create`). It is kept in this tab only.</p>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <ErrorNote error={error} />
    </main>
  );
}
