import type { ApiError } from "../api.ts";

/** A failed call, announced (role=alert), with the server's code and request id. */
export function ErrorNote({ error }: { error: ApiError | undefined | null }) {
  if (!error) return null;
  return (
    <p role="alert" class="error">
      {error.message}
      {error.code && !error.code.startsWith("http_") ? <span class="muted"> ({error.code}{error.requestId ? `, request ${error.requestId}` : ""})</span> : null}
    </p>
  );
}
