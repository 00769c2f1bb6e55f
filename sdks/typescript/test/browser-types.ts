// Type test of pennon/browser and pennon/openfeature-web: compiled by `tsc -p sdks/typescript`.
import { OpenFeature } from '@openfeature/web-sdk'
import { createClient, type ChangeEvent, type Details } from 'pennon/browser'
import { PennonWebProvider } from 'pennon/openfeature-web'

const client = createClient({ url: 'https://flags.example', sdkKey: 'key', context: { targetingKey: 'u1', beta: true } })
client.on('change', (event: ChangeEvent) => event.flags.join(','))
client.on('error', ({ code }) => code.toUpperCase())
const enabled: boolean = client.isEnabled('checkout')
const banner: string = client.getString('banner', 'hi')
const limit: number = client.getNumber('limit', 3)
const options: { a: number } = client.getObject('options', { a: 1 })
const details: Details<string> = client.evaluate<string>('banner')
const revision: number | null = details.revision
void client.setContext({ targetingKey: 'u2' })
const fromPage = createClient({ bootstrap: { revision: 3, flags: { checkout: { value: true } } } })
void OpenFeature.setProviderAndWait(new PennonWebProvider({ url: 'https://flags.example', sdkKey: 'key' }))
void new PennonWebProvider(fromPage).client
void [enabled, banner, limit, options, revision]
