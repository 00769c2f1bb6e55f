import assert from "node:assert/strict";
import { test } from "node:test";
import type { AuditEntry, FlagDefinition } from "../src/api.ts";
import { definitionAt, proposalDiff, proposalText } from "../src/proposal.ts";

// Requests as the server stores them (GET /api/v1/change-requests).
const state = { type: "edit", key: "reports.export-pdf", edit: { edit: "state", state: "off", percentage: null } };
const overrideSet = { type: "edit", key: "f", edit: { edit: "overrideSet", tenant: "acme", variant: "on", expires_at: "2030-01-01T00:00:00Z", note: null } };
const current = { state: "on", overrides: [{ tenant: "globex", variant: "off" }] } as unknown as FlagDefinition;

test("sentences for each kind of request", () => {
  assert.equal(proposalText(state), "Set the state of reports.export-pdf to off");
  assert.equal(proposalText(overrideSet), 'Give tenant acme the variant "on" of f until 2030-01-01T00:00:00Z');
  assert.equal(proposalText({ type: "edit", key: "f", edit: { edit: "overrideRm", tenant: "acme" } }), "Remove the override of tenant acme from f");
  assert.equal(proposalText({ type: "edit", key: "f", edit: { edit: "kill" } }), "Kill f");
  assert.equal(
    proposalText({ type: "edit", key: "f", edit: { edit: "rollout", cohort: "canary", stages: [{ percentage: 10, duration: "PT1H" }, { percentage: 100 }] } }),
    "Set the canary rollout of f to stages 10% for 1 h → 100%",
  );
  assert.equal(proposalText({ type: "rollback", key: "f", to_revision: 3 }), "Roll f back to revision 3");
  assert.equal(proposalText({ type: "put", kind: "flag", key: "f", definition: {} }), "Replace the definition of flag f");
  assert.equal(proposalText({ type: "import", snapshot: { flags: { a: {}, b: {} } }, replace: true }), "Import a snapshot of 2 flags, removing what it does not have");
  assert.equal(proposalText(null), "Change the environment");
});

test("the diff covers the fields an edit sets", () => {
  assert.deepEqual(proposalDiff(state, current, []), { before: { state: "on" }, after: { state: "off" } });
  assert.deepEqual(proposalDiff(overrideSet, current, []), {
    before: { overrides: [{ tenant: "globex", variant: "off" }] },
    after: { overrides: [{ tenant: "globex", variant: "off" }, { tenant: "acme", variant: "on", expiresAt: "2030-01-01T00:00:00Z" }] },
  });
  assert.deepEqual(proposalDiff({ type: "edit", key: "f", edit: { edit: "overrideRm", tenant: "globex" } }, current, []), {
    before: { overrides: [{ tenant: "globex", variant: "off" }] },
    after: { overrides: [] },
  });
  assert.equal(proposalDiff({ type: "import", snapshot: {} }, current, []), null);
});

test("a rollback compares with the definition in force at that revision", () => {
  const history = [
    { revision: 7, after: { state: "kill" } },
    { revision: 4, after: { state: "on" } },
    { revision: 1, after: { state: "off" } },
  ] as AuditEntry[];
  assert.deepEqual(definitionAt(history, 5), { state: "on" });
  assert.deepEqual(definitionAt(history, 1), { state: "off" });
  assert.equal(definitionAt(history, 0), undefined);
  assert.deepEqual(proposalDiff({ type: "rollback", key: "f", to_revision: 2 }, current, history), { before: current, after: { state: "off" } });
  assert.deepEqual(proposalDiff({ type: "rollback", key: "f", to_revision: null }, current, history), { before: current, after: { state: "on" } });
});
