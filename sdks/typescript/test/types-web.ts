// Compiled (not run) by `tsc -p sdks/typescript`: the web build's declarations (web.d.ts)
// describe the API as a page or a Worker uses it.
import pennon, { createClient, init, initSync, ClientError, type ChangeEvent, type Details } from '../web.js'

const started: Promise<unknown> = init()
initSync({ module: new Uint8Array(0) })
const client = createClient({ url: 'https://flags.example', sdkKey: 'k', stream: true })
const ready: Promise<void> = client.ready()
const on: boolean = client.isEnabled('a', { targetingKey: 'u' })
const d: Details = client.evaluate('a', {})
const onChange = (e: ChangeEvent) => void e.flags.includes('a')
client.on('change', onChange).once('ready', (e) => void e.recovered)
client.off('change', onChange)
const listeners: number = client.listenerCount('error')
const err: ClientError = new ClientError('not_initialized', 'call init() first')
const viaDefault: typeof createClient = pennon.createClient
void [started, ready, on, d, listeners, err, viaDefault]
