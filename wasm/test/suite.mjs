// Reads the conformance suite (tests/conformance, format in its README) and compares
// results the way every Pennon runner does.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SUITE = join(ROOT, 'tests/conformance');
export const WASM_DIR = fileURLToPath(new URL('../', import.meta.url));

/** Every case file, sorted, with its snapshot as JSON text (inline ones re-serialised). */
export function caseFiles() {
  const names = readdirSync(join(SUITE, 'cases'))
    .filter((n) => n.endsWith('.json'))
    .sort();
  if (names.length === 0) throw new Error(`no case files in ${SUITE}/cases`);
  return names.map((name) => {
    const file = JSON.parse(readFileSync(join(SUITE, 'cases', name), 'utf8'));
    if ((file.snapshot === undefined) === (file.snapshotFile === undefined)) {
      throw new Error(`${name}: exactly one of snapshot / snapshotFile`);
    }
    const snapshotText =
      file.snapshot !== undefined ? JSON.stringify(file.snapshot) : readFileSync(join(SUITE, file.snapshotFile), 'utf8');
    return { name, file, snapshotText };
  });
}

export function bucketingVectors() {
  return JSON.parse(readFileSync(join(SUITE, 'bucketing.json'), 'utf8')).vectors;
}

/** JSON equality where numbers compare numerically and objects deeply. */
export function same(expected, actual) {
  if (typeof expected === 'number' || typeof actual === 'number') return expected === actual;
  if (expected === null || actual === null || typeof expected !== 'object' || typeof actual !== 'object') {
    return expected === actual;
  }
  if (Array.isArray(expected) !== Array.isArray(actual)) return false;
  const ek = Object.keys(expected);
  const ak = Object.keys(actual);
  return ek.length === ak.length && ek.every((k) => Object.hasOwn(actual, k) && same(expected[k], actual[k]));
}

const COMPARED = ['value', 'variant', 'reason', 'ruleId', 'stage', 'shadowVariant', 'errorCode'];

/** The differences between a result object and a case's `expect` (empty when it passes). */
export function compare(expect, actual, revision) {
  const problems = [];
  for (const field of COMPARED) {
    const want = expect[field] ?? null;
    const got = actual[field] ?? null;
    if (!same(want, got)) problems.push(`${field}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
  const hasError = actual.errorCode !== null && actual.errorCode !== undefined;
  const message = actual.errorMessage;
  if (hasError ? !(typeof message === 'string' && message.length > 0) : message !== null) {
    problems.push(`errorMessage ${JSON.stringify(message)} does not fit errorCode ${actual.errorCode}`);
  }
  if (actual.revision !== revision) problems.push(`revision: expected ${revision}, got ${actual.revision}`);
  if (Object.hasOwn(expect, 'flagMetadata') && !same(expect.flagMetadata, actual.flagMetadata ?? null)) {
    problems.push(`flagMetadata: expected ${JSON.stringify(expect.flagMetadata)}, got ${JSON.stringify(actual.flagMetadata)}`);
  }
  return problems;
}

/**
 * Runs one case file against an Engine class; returns { count, failures }. Used by the
 * nodejs runner and the web-target test, so both run the same checks.
 */
export function runCaseFile({ name, file, snapshotText }, { Engine, SnapshotError }) {
  const engine = new Engine();
  const failures = [];
  const expectedError = file.load?.error;
  let warnings;
  try {
    warnings = engine.load(snapshotText);
  } catch (error) {
    if (expectedError !== undefined && error instanceof SnapshotError && error.code === expectedError) {
      return { count: 1, failures };
    }
    return { count: 1, failures: [`${name}: load failed: ${error.name} ${error.code}: ${error.message}; expected ${expectedError}`] };
  }
  if (expectedError !== undefined) {
    return { count: 1, failures: [`${name}: loaded, but expected load error ${expectedError}`] };
  }
  const expectedWarnings = file.load?.warnings ?? [];
  const codes = warnings.map((w) => w.code);
  if (JSON.stringify(codes) !== JSON.stringify(expectedWarnings)) {
    failures.push(`${name}: warnings ${JSON.stringify(codes)}, expected ${JSON.stringify(expectedWarnings)}`);
  }
  if (JSON.stringify(engine.warnings) !== JSON.stringify(warnings)) {
    failures.push(`${name}: engine.warnings differs from what load returned`);
  }
  const revision = engine.revision;
  const cases = file.cases ?? [];
  for (const c of cases) {
    const now = c.now ?? file.now;
    if (now === undefined) throw new Error(`${name} › ${c.name}: no now`);
    const result = engine.evaluate(c.flag, c.context ?? {}, { type: c.type, default: c.default ?? null, now });
    const problems = compare(c.expect, result, revision);
    // The typed getters must agree with evaluate: the value, or the default on error.
    if (c.type !== 'any') {
      const getter = { boolean: 'getBoolean', string: 'getString', number: 'getNumber', object: 'getObject' }[c.type];
      const got = engine[getter](c.flag, c.context ?? {}, c.default ?? null, now);
      if (!same(result.value, got)) problems.push(`${getter} gave ${JSON.stringify(got)}, evaluate ${JSON.stringify(result.value)}`);
    }
    if (problems.length > 0) failures.push(`${name} › ${c.name}: ${problems.join('; ')} (result ${JSON.stringify(result)})`);
  }
  engine.free();
  return { count: cases.length, failures };
}
