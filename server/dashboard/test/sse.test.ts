import assert from "node:assert/strict";
import { test } from "node:test";
import { backoff, SseParser } from "../src/sse.ts";

test("events are dispatched on a blank line, split across chunks", () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push(": keepalive\n\nevent: revision\nda"), []);
  assert.deepEqual(parser.push('ta: {"environment":"production"}\n\n'), [{ type: "revision", data: '{"environment":"production"}' }]);
});

test("CRLF line ends, several data lines and events without a type", () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push("data: a\r\ndata:b\r\n\r\nevent: audit\ndata: {}\n\n"), [
    { type: "message", data: "a\nb" },
    { type: "audit", data: "{}" },
  ]);
});

test("a comment alone dispatches nothing", () => {
  assert.deepEqual(new SseParser().push(": keepalive\n\n: keepalive\n\n"), []);
});

test("backoff doubles from 1 s up to 30 s with jitter", () => {
  assert.equal(backoff(0, () => 0.5), 1000);
  assert.equal(backoff(1, () => 0.5), 2000);
  assert.equal(backoff(4, () => 0.5), 16000);
  assert.equal(backoff(9, () => 0.5), 30000);
  assert.equal(backoff(0, () => 0), 800);
  assert.equal(backoff(0, () => 1), 1200);
});
