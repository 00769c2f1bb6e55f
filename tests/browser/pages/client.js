// A page that uses pennon/browser and pennon/openfeature-web the way an application would.
// The test opens it with ?url=<pennon serve>&key=<sdk key>; the server may render
// results into <script id="pennon-bootstrap"> so the page is ready without a request.
import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk'
import { createClient } from 'pennon/browser'
import { PennonWebProvider } from 'pennon/openfeature-web'

const params = new URLSearchParams(location.search)
const url = params.get('url')
const sdkKey = params.get('key')
const embedded = document.getElementById('pennon-bootstrap')
const show = (id, text) => {
  document.getElementById(id).textContent = text
}

const bootstrap = embedded ? JSON.parse(embedded.textContent) : undefined
const client = createClient({ url, sdkKey, context: { targetingKey: 'user-1' }, bootstrap })
const render = () => {
  show('checkout', String(client.isEnabled('checkout')))
  show('beta', client.getString('beta-banner', 'none'))
  show('revision', String(client.revision))
}
client.on('change', ({ flags, revision }) => {
  const item = document.createElement('li')
  item.textContent = `revision ${revision}: ${flags.join(', ') || '(no flag changed for this user)'}`
  document.getElementById('changes').append(item)
  render()
})
client.on('error', ({ code, message }) => console.warn(`pennon: ${message} (${code})`))
await client.ready()
render()
window.switchUser = (context) => client.setContext(context)

// The same flags through OpenFeature's web SDK (static context).
await OpenFeature.setContext({ targetingKey: 'user-1' })
await OpenFeature.setProviderAndWait(new PennonWebProvider({ url, sdkKey, bootstrap }))
const flags = OpenFeature.getClient()
const renderOpenFeature = () => show('of-checkout', String(flags.getBooleanValue('checkout', true)))
flags.addHandler(ProviderEvents.ConfigurationChanged, renderOpenFeature)
renderOpenFeature()
document.body.dataset.ready = 'true'
