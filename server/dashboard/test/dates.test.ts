import assert from "node:assert/strict";
import { test } from "node:test";
import { fromLocalInput, localText, parseDate, relativeText, utcText } from "../src/dates.ts";

test("UTC text for the title", () => {
  assert.equal(utcText(new Date("2026-12-06T11:00:00.123Z")), "2026-12-06 11:00:00 UTC");
});

test("local text follows the given zone", () => {
  const berlin = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", dateStyle: "medium", timeStyle: "medium" });
  assert.equal(localText(new Date("2026-12-06T11:00:00Z"), berlin), "6 Dec 2026, 12:00:00");
  const tokyo = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Tokyo", timeStyle: "short" });
  assert.equal(localText(new Date("2026-12-06T11:00:00Z"), tokyo), "20:00");
});

test("relative text", () => {
  const now = new Date("2026-12-06T12:00:00Z");
  assert.equal(relativeText(new Date("2026-12-06T11:57:00Z"), now), "3 min ago");
  assert.equal(relativeText(new Date("2026-12-06T14:00:00Z"), now), "in 2 h");
  assert.equal(relativeText(new Date("2026-12-04T12:00:00Z"), now), "2 d ago");
  assert.equal(relativeText(new Date("2026-12-06T12:00:02Z"), now), "just now");
});

test("parsing and datetime-local inputs", () => {
  assert.equal(parseDate("nope"), null);
  assert.equal(parseDate(null), null);
  assert.equal(parseDate("2026-12-06T11:00:00Z")?.getTime(), Date.UTC(2026, 11, 6, 11));
  // the test runner sets TZ=Europe/Berlin: 12:30 local is 11:30 UTC in December
  assert.equal(fromLocalInput("2026-12-06T12:30"), "2026-12-06T11:30:00Z");
  assert.equal(fromLocalInput(""), null);
  assert.equal(fromLocalInput("12/06/2026"), null);
});
