// pennon serve through the OpenFeature server SDK and its real OFREP provider
// (@openfeature/ofrep-provider): the provider posts to /ofrep/v1/evaluate/flags/{key}
// with the SDK key as a bearer token, exactly as it would against any OFREP server.
//   PENNON_BIN=target/debug/pennon node --test ofrep.test.mjs   (run.sh does this)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';

const ADMIN_TOKEN = 'pennon_ofrep_admin_0123456789abcdef0123456789abcdef';
const bin = process.env.PENNON_BIN;

let server;
let dir;
let baseUrl;
let sdkKey;

async function startServer() {
  dir = mkdtempSync(join(tmpdir(), 'pennon-ofrep-'));
  server = spawn(
    bin,
    ['serve', '--listen', '127.0.0.1:0', '--database-url', `sqlite://${join(dir, 'pennon.db')}`],
    { env: { ...process.env, PENNON_ADMIN_TOKEN: ADMIN_TOKEN, RUST_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: server.stdout });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('pennon serve printed no `pennon: listening on URL` within 60 s')), 60_000);
    server.once('exit', (code) => reject(new Error(`pennon serve exited with ${code} before listening`)));
    lines.on('line', (line) => {
      const m = /^pennon: listening on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    });
  });
}

async function admin(method, path, body) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: reported below
  }
  if (response.status >= 300) {
    throw new Error(`${method} ${path}: ${response.status} ${text}`);
  }
  return json;
}

const greeting = {
  type: 'string',
  state: 'on',
  variants: { hello: 'hello', hallo: 'hallo' },
  offVariant: 'hello',
  fallthrough: { variant: 'hello' },
  rules: [
    {
      id: 'german-speaking',
      when: { attribute: 'country', op: 'in', values: ['DE', 'AT', 'CH'] },
      serve: { variant: 'hallo' },
    },
  ],
  metadata: { owner: 'growth' },
};

const newCheckout = {
  type: 'boolean',
  state: 'on',
  variants: { on: true, off: false },
  offVariant: 'off',
  fallthrough: { variant: 'on' },
};

const retired = { ...newCheckout, state: 'off' };

before(async () => {
  assert.ok(bin, 'PENNON_BIN must name the pennon binary');
  baseUrl = await startServer();
  const token = await admin('POST', '/api/v1/tokens', { name: 'ofrep-test', role: 'sdk', environment: 'development' });
  sdkKey = token.token;
  assert.equal(typeof sdkKey, 'string');
  for (const [key, definition] of Object.entries({ greeting, 'new-checkout': newCheckout, retired })) {
    await admin('PUT', `/api/v1/environments/development/flags/${key}`, { definition, reason: 'ofrep test' });
  }
  await OpenFeature.setProviderAndWait(
    new OFREPProvider({ baseUrl, headers: [['Authorization', `Bearer ${sdkKey}`]] }),
  );
});

after(async () => {
  await OpenFeature.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('OFREP provider against pennon serve', () => {
  test('a boolean flag with no targeting: value, variant, reason STATIC', async () => {
    const details = await OpenFeature.getClient().getBooleanDetails('new-checkout', false, { targetingKey: 'u-1' });
    assert.equal(details.errorCode, undefined, details.errorMessage);
    assert.equal(details.value, true);
    assert.equal(details.variant, 'on');
    assert.equal(details.reason, 'STATIC');
  });

  test('a string flag whose rule on an attribute matches: TARGETING_MATCH', async () => {
    const details = await OpenFeature.getClient().getStringDetails('greeting', 'default', { targetingKey: 'u-2', country: 'AT' });
    assert.equal(details.errorCode, undefined, details.errorMessage);
    assert.equal(details.value, 'hallo');
    assert.equal(details.variant, 'hallo');
    assert.equal(details.reason, 'TARGETING_MATCH');
  });

  test('the same flag when the rule does not match: the fallthrough, reason DEFAULT', async () => {
    const details = await OpenFeature.getClient().getStringDetails('greeting', 'default', { targetingKey: 'u-3', country: 'FR' });
    assert.equal(details.errorCode, undefined, details.errorMessage);
    assert.equal(details.value, 'hello');
    assert.equal(details.variant, 'hello');
    assert.equal(details.reason, 'DEFAULT');
  });

  test('a flag that is off: its off variant, reason DISABLED', async () => {
    const details = await OpenFeature.getClient().getBooleanDetails('retired', true, { targetingKey: 'u-4' });
    assert.equal(details.errorCode, undefined, details.errorMessage);
    assert.equal(details.value, false);
    assert.equal(details.variant, 'off');
    assert.equal(details.reason, 'DISABLED');
  });

  test('an unknown flag: FLAG_NOT_FOUND, the caller default', async () => {
    const details = await OpenFeature.getClient().getStringDetails('no-such-flag', 'fallback', { targetingKey: 'u-5' });
    assert.equal(details.value, 'fallback');
    assert.equal(details.errorCode, 'FLAG_NOT_FOUND');
    assert.equal(details.reason, 'ERROR');
  });

  test('a change through the admin API is what the provider sees next', async () => {
    const flag = await admin('GET', '/api/v1/environments/development/flags/new-checkout');
    await admin('POST', '/api/v1/environments/development/flags/new-checkout/kill', { reason: 'ofrep test' });
    const details = await OpenFeature.getClient().getBooleanDetails('new-checkout', true, { targetingKey: 'u-6' });
    assert.equal(details.value, false);
    assert.equal(details.variant, 'off');
    assert.ok(flag.revision >= 1);
    await admin('POST', '/api/v1/environments/development/flags/new-checkout/state', {
      state: 'on',
      reason: 'ofrep test',
    });
    const again = await OpenFeature.getClient().getBooleanDetails('new-checkout', false, { targetingKey: 'u-6' });
    assert.equal(again.value, true);
  });

  test('a wrong key: the provider fails closed to the default', async () => {
    const client = OpenFeature.getClient('wrong-key');
    OpenFeature.setProvider(
      'wrong-key',
      new OFREPProvider({ baseUrl, headers: [['Authorization', 'Bearer pennon_sdk_not_a_real_key']] }),
    );
    const details = await client.getBooleanDetails('new-checkout', false, { targetingKey: 'u-7' });
    assert.equal(details.value, false);
    assert.equal(details.reason, 'ERROR');
    assert.ok(details.errorCode, 'an error code');
  });

  test('bulk evaluation with X-API-Key, ETag and If-None-Match', async () => {
    const request = {
      method: 'POST',
      headers: { 'x-api-key': sdkKey, 'content-type': 'application/json' },
      body: JSON.stringify({ context: { targetingKey: 'u-8', country: 'DE' } }),
    };
    const first = await fetch(`${baseUrl}/ofrep/v1/evaluate/flags`, request);
    assert.equal(first.status, 200);
    const body = await first.json();
    const byKey = Object.fromEntries(body.flags.map((f) => [f.key, f]));
    assert.equal(byKey.greeting.value, 'hallo');
    assert.equal(byKey['new-checkout'].value, true);
    const etag = first.headers.get('etag');
    assert.ok(etag, 'the bulk answer has an ETag');
    const second = await fetch(`${baseUrl}/ofrep/v1/evaluate/flags`, {
      ...request,
      headers: { ...request.headers, 'if-none-match': etag },
    });
    assert.equal(second.status, 304);
    // After a change the old ETag no longer matches.
    await admin('POST', '/api/v1/environments/development/flags/greeting/kill', { reason: 'ofrep test' });
    const third = await fetch(`${baseUrl}/ofrep/v1/evaluate/flags`, {
      ...request,
      headers: { ...request.headers, 'if-none-match': etag },
    });
    assert.equal(third.status, 200);
    assert.notEqual(third.headers.get('etag'), etag);
    const killed = Object.fromEntries((await third.json()).flags.map((f) => [f.key, f]));
    assert.equal(killed.greeting.value, 'hello');
  });
});
