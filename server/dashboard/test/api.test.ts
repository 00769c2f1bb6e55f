import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, errorFrom } from "../src/api.ts";

test("the server's error object becomes an ApiError with its fields", () => {
  const error = errorFrom(409, '{"error":{"code":"conflict","message":"flag changed","currentRevision":2,"requestId":"r-1"}}', "POST /x");
  assert.ok(error instanceof ApiError);
  assert.equal(error.status, 409);
  assert.equal(error.code, "conflict");
  assert.equal(error.message, "flag changed");
  assert.equal(error.requestId, "r-1");
  assert.equal(error.details["currentRevision"], 2);
  assert.equal(error.unavailable, false);
});

test("a bare 404 is a route this server does not have", () => {
  const error = errorFrom(404, "", "GET /api/v1/events");
  assert.equal(error.code, "not_available");
  assert.equal(error.unavailable, true);
  assert.match(error.message, /GET \/api\/v1\/events is not available on this server/);
});

test("other bodies keep the status", () => {
  const error = errorFrom(502, "<html>bad gateway</html>", "GET /api/v1/me");
  assert.equal(error.code, "http_502");
  assert.equal(error.message, "GET /api/v1/me failed with HTTP 502");
});
