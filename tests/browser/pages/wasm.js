// A page that uses `pennon`'s web build: the snapshot (every rule) is downloaded and core,
// compiled to wasm, evaluates in the page, for any context. Opened with ?url=&key=.
import { createClient, init } from 'pennon'

const params = new URLSearchParams(location.search)
const show = (id, text) => {
  document.getElementById(id).textContent = text
}

await init() // fetches pennon_wasm_bg.wasm from next to pennon-wasm's JS
const client = createClient({ url: params.get('url'), sdkKey: params.get('key') })
const render = () => {
  show('checkout', String(client.isEnabled('checkout', { targetingKey: 'user-1' })))
  show('beta', client.getString('beta-banner', { targetingKey: 'user-2', beta: true }, 'none'))
  show('revision', String(client.revision))
}
client.on('change', ({ flags, revision }) => {
  const item = document.createElement('li')
  item.textContent = `revision ${revision}: ${flags.join(', ')}`
  document.getElementById('changes').append(item)
  render()
})
client.on('error', ({ code, message }) => console.warn(`pennon: ${message} (${code})`))
await client.ready()
render()
document.body.dataset.ready = 'true'
