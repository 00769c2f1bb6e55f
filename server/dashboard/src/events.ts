// The live feed: GET /api/v1/events (contract 1a) streamed with fetch() so the token goes
// in the Authorization header (EventSource cannot send one). Reconnects with backoff and
// tells the caller, which then re-fetches what it shows (the stream has no replay).
import { errorFrom } from "./api.ts";
import { backoff, SseParser, type ServerEvent } from "./sse.ts";

export type FeedStatus = "connecting" | "live" | "reconnecting" | "unavailable" | "stopped";

export interface FeedHandlers {
  onEvent(event: ServerEvent & { json: Record<string, unknown> }): void;
  /** The stream (re)opened: anything shown may be stale. */
  onOpen(reconnected: boolean): void;
  onStatus(status: FeedStatus, detail?: string): void;
  /** The token was refused (revoked while the stream was open, say). */
  onUnauthorized?(): void;
}

/** Starts following the feed; call the returned function to stop. */
export function follow(token: string, handlers: FeedHandlers, base = ""): () => void {
  const abort = new AbortController();
  let attempt = 0;
  let opened = false;

  const run = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      handlers.onStatus(opened ? "reconnecting" : "connecting");
      try {
        const response = await fetch(`${base}/api/v1/events`, {
          headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
          signal: abort.signal,
          cache: "no-store",
        });
        if (!response.ok || !response.body) {
          const error = errorFrom(response.status, await response.text(), "The live event stream");
          // 404 (an older server) and 401/403 do not get better by retrying.
          if ([401, 403, 404].includes(response.status)) {
            handlers.onStatus("unavailable", error.message);
            if (response.status === 401) handlers.onUnauthorized?.();
            return;
          }
          throw error;
        }
        handlers.onOpen(opened);
        opened = true;
        attempt = 0;
        handlers.onStatus("live");
        const parser = new SseParser();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.push(value)) {
            let json: Record<string, unknown> = {};
            try {
              json = JSON.parse(event.data) as Record<string, unknown>;
            } catch {
              continue;
            }
            handlers.onEvent({ ...event, json });
          }
        }
      } catch (error) {
        if (abort.signal.aborted) break;
        handlers.onStatus("reconnecting", String(error instanceof Error ? error.message : error));
      }
      if (abort.signal.aborted) break;
      await new Promise((resolve) => setTimeout(resolve, backoff(attempt++)));
    }
  };
  void run();
  return () => {
    abort.abort();
    handlers.onStatus("stopped");
  };
}
