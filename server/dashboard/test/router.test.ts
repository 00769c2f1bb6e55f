import assert from "node:assert/strict";
import { test } from "node:test";
import { href, parseRoute, routeTitle } from "../src/router.ts";

test("every route of the contract parses", () => {
  assert.deepEqual(parseRoute("#/signin"), { page: "signin" });
  assert.deepEqual(parseRoute("#/compare"), { page: "compare" });
  assert.deepEqual(parseRoute("#/approvals"), { page: "approvals" });
  assert.deepEqual(parseRoute("#/env/production/flags/checkout.new-flow"), { page: "flag", env: "production", key: "checkout.new-flow" });
  assert.deepEqual(parseRoute("#/env/dev/rollouts/a%2Fb"), { page: "rollout", env: "dev", key: "a/b" });
  assert.deepEqual(parseRoute("#/env/dev/experiments/x"), { page: "experiment", env: "dev", key: "x" });
  const flags = parseRoute("#/flags?env=production&q=pay");
  assert.equal(flags.page, "flags");
  assert.equal(flags.page === "flags" && flags.env, "production");
  assert.equal(flags.page === "flags" && flags.params.get("q"), "pay");
  const audit = parseRoute("#/audit?flag=x");
  assert.equal(audit.page === "audit" && audit.params.get("flag"), "x");
});

test("no hash means the flags; unknown paths are not found", () => {
  assert.equal(parseRoute("").page, "flags");
  assert.equal(parseRoute("#/").page, "flags");
  assert.deepEqual(parseRoute("#/env/dev/segments/x"), { page: "notfound", path: "/env/dev/segments/x" });
  assert.deepEqual(parseRoute("#/nope"), { page: "notfound", path: "/nope" });
});

test("hrefs round trip through the parser", () => {
  assert.equal(href.flags("production", { q: "pay", state: "", tag: "x" }), "#/flags?env=production&q=pay&tag=x");
  assert.equal(href.flags(), "#/flags");
  assert.equal(href.audit({ flag: "", principal: "" }), "#/audit");
  for (const hash of [href.flag("prod env", "a/b"), href.rollout("p", "k.k"), href.experiment("p", "k")]) {
    const route = parseRoute(hash);
    assert.ok(route.page === "flag" || route.page === "rollout" || route.page === "experiment");
  }
  assert.deepEqual(parseRoute(href.flag("prod env", "a/b")), { page: "flag", env: "prod env", key: "a/b" });
});

test("titles name the page and its environment", () => {
  assert.equal(routeTitle(parseRoute("#/env/production/flags/k")), "k in production · Pennon");
  assert.equal(routeTitle(parseRoute("#/flags"), "staging"), "Flags in staging · Pennon");
  assert.equal(routeTitle(parseRoute("#/audit")), "Audit trail · Pennon");
});
