// Writes ../.build/flipt-snapshot.b64: the engine snapshot that Flipt's JS SDK builds from
// ../workloads/flipt.json (client.getSnapshot()). Flipt's Python SDK can only start
// without a server from such a snapshot (ClientOptions.snapshot + ErrorStrategy.FALLBACK);
// both SDKs embed the same Rust engine (fliptevaluation), and the Python checks prove that
// it answers W1–W3 as specified. run.mjs calls this before the Python cases.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FliptClient } from '@flipt-io/flipt-client-js'

const here = dirname(fileURLToPath(import.meta.url))
const state = readFileSync(join(here, '..', 'workloads', 'flipt.json'), 'utf8')
const client = await FliptClient.init({
  namespace: 'default',
  updateInterval: 0,
  fetcher: async () => new Response(state, { status: 200, headers: { 'content-type': 'application/json' } }),
})
mkdirSync(join(here, '..', '.build'), { recursive: true })
writeFileSync(join(here, '..', '.build', 'flipt-snapshot.b64'), client.getSnapshot())
