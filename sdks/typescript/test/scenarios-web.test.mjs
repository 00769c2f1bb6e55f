// The tests/sdk scenarios through the web client (dist/web.mjs: pennon-wasm's web build,
// fetch with a ReadableStream SSE reader, WebCrypto Ed25519), run by Node, which has all
// three. Every scenario runs.
import { scenarioTests } from '../test-support/scenarios.mjs'
import { loadWebClient } from '../test-support/web-client.mjs'

const { createClient } = await loadWebClient()
scenarioTests('web', createClient)
