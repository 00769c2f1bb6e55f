// pennon/browser, pennon/openfeature-web and pennon's wasm build in a real browser: Debian's Chromium, headless,
// driven by playwright-core (which never downloads a browser here), against a real
// `pennon serve` (PENNON_BIN) on another origin, so CORS is exercised as in production.
// A static server gives the page as plain ES modules (no bundler). A change made with the
// `pennon` CLI must show on the page within 1 s, without a reload and without console errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import { dirname, extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { booleanFlag, startServer } from '../../sdks/typescript/test/pennon-server.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const DEV = '/api/v1/environments/development'
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
// As root Chromium needs --no-sandbox (playwright passes it); the rest keeps it off the
// network it would otherwise call at every start (TOOLCHAIN.md).
const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** What the static server serves under each prefix. */
const ROOTS = {
  '/pennon/': join(here, '../../sdks/typescript/browser'),
  '/pennon-web/': join(here, '../../sdks/typescript'),
  '/pennon-wasm/': join(here, '../../wasm'),
  '/node_modules/': join(here, 'node_modules'),
  '/': join(here, 'pages'),
}
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' }

/**
 * The page's web server. `/bootstrap.html` is client.html with results rendered in, as a
 * server-side renderer would: it asks pennon for user-1's results and embeds them.
 */
async function startPages(pennon, sdkKey) {
  const server = http.createServer(async (req, res) => {
    try {
      const path = new URL(req.url, 'http://x').pathname
      let body
      let file
      if (path === '/client.html' || path === '/bootstrap.html') {
        file = join(ROOTS['/'], 'client.html')
        let bootstrap = ''
        if (path === '/bootstrap.html') {
          const answer = await fetch(`${pennon}/sdk/v1/evaluate`, {
            method: 'POST',
            headers: { authorization: `Bearer ${sdkKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ context: { targetingKey: 'user-1' } }),
          })
          const json = JSON.stringify(await answer.json()).replaceAll('<', '\\u003c')
          bootstrap = `<script type="application/json" id="pennon-bootstrap">${json}</script>`
        }
        body = (await readFile(file, 'utf8')).replace('<!--BOOTSTRAP-->', bootstrap)
      } else {
        const prefix = Object.keys(ROOTS).find((p) => path.startsWith(p))
        file = normalize(join(ROOTS[prefix], path.slice(prefix.length)))
        if (!file.startsWith(ROOTS[prefix])) throw Object.assign(new Error('outside'), { status: 403 })
        body = await readFile(file)
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
      res.end(body)
    } catch (error) {
      res.writeHead(error.status ?? 404).end()
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${server.address().port}` }
}

/** A page with every console error and uncaught exception collected. */
async function open(browser, url) {
  const page = await browser.newPage()
  const problems = []
  page.on('console', (message) => {
    // Errors, and the warnings the pages log for a client's `error` events.
    if (message.type() === 'error' || message.text().startsWith('pennon:')) problems.push(`console: ${message.text()}`)
  })
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  const requests = []
  page.on('request', (request) => requests.push(`${request.method()} ${new URL(request.url()).pathname}`))
  // Streams whose answer's headers arrived: the server has subscribed them to publishes.
  const streams = []
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname
    if (response.ok() && (path === '/ofrep/v1/events' || path === '/sdk/v1/stream')) streams.push(path)
  })
  await page.goto(url)
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 }).catch(async (error) => {
    throw new Error(`the page did not get ready: ${error.message}; ${problems.join('; ')}`)
  })
  return { page, problems, requests, streams }
}

const text = (page, id) => page.locator(`#${id}`).textContent()

test('pennon/browser and the wasm client in headless Chromium follow CLI changes without a reload', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (scripts/setup.sh does)`)
  const pennon = await startServer()
  let pages
  let browser
  try {
    const sdkKey = await pennon.sdkKey('browser-page')
    await pennon.admin('PUT', `${DEV}/flags/checkout`, { definition: booleanFlag('on') })
    const banner = {
      type: 'string',
      state: 'on',
      variants: { none: 'none', beta: 'welcome, beta tester' },
      offVariant: 'none',
      fallthrough: { variant: 'none' },
      rules: [{ id: 'beta', when: { attribute: 'beta', op: 'equals', value: true }, serve: { variant: 'beta' } }],
    }
    await pennon.admin('PUT', `${DEV}/flags/beta-banner`, { definition: banner })
    pages = await startPages(pennon.url, sdkKey)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    const query = `?url=${encodeURIComponent(pennon.url)}&key=${encodeURIComponent(sdkKey)}`

    const { page, problems, streams } = await open(browser, `${pages.url}/client.html${query}`)
    assert.equal(await text(page, 'checkout'), 'true')
    assert.equal(await text(page, 'of-checkout'), 'true')
    assert.equal(await text(page, 'beta'), 'none')
    await page.evaluate(() => {
      window.notReloaded = true
    })
    // The page that was server-rendered with results is ready without asking for them.
    const rendered = await open(browser, `${pages.url}/bootstrap.html${query}`)
    assert.equal(await text(rendered.page, 'checkout'), 'true')
    assert.ok(
      !rendered.requests.includes('POST /sdk/v1/evaluate'),
      `the bootstrapped client fetched its results: ${rendered.requests.join(', ')}`,
    )
    // The wasm client: every rule in the page, evaluated there for any context.
    const wasm = await open(browser, `${pages.url}/wasm.html${query}`)
    assert.equal(await text(wasm.page, 'checkout'), 'true')
    assert.equal(await text(wasm.page, 'beta'), 'welcome, beta tester')
    assert.ok(wasm.requests.includes('GET /pennon-wasm/dist/web/pennon_wasm_bg.wasm'), wasm.requests.join(', '))
    // Every client's stream is connected before the change: the client and the provider
    // on each pennon/browser page, the wasm client's snapshot stream.
    const deadline = Date.now() + 5000
    while (streams.length < 2 || rendered.streams.length < 2 || wasm.streams.length < 1) {
      assert.ok(Date.now() < deadline, `streams not connected: ${[streams, rendered.streams, wasm.streams].join(' | ')}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }

    await pennon.cli('kill', 'checkout', '--reason', 'browser test')
    const killed = Date.now()
    for (const [where, id] of [[page, 'checkout'], [page, 'of-checkout'], [rendered.page, 'checkout'], [wasm.page, 'checkout']]) {
      await where.waitForFunction((id) => document.getElementById(id).textContent === 'false', id, {
        timeout: Math.max(1, 1000 - (Date.now() - killed)),
      }).catch(() => assert.fail(`#${id} did not show the kill within 1 s of \`pennon kill\` returning`))
    }
    console.log(`# the kill showed on the pages ${Date.now() - killed} ms after \`pennon kill\` returned`)
    assert.match(await text(page, 'changes'), /revision \d+: checkout/)
    assert.match(await text(wasm.page, 'changes'), /revision \d+: checkout/)

    // Another user: setContext re-fetches their results.
    await page.evaluate(() => window.switchUser({ targetingKey: 'user-2', beta: true }))
    assert.equal(await text(page, 'beta'), 'welcome, beta tester')
    assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was not reloaded')
    assert.deepEqual([...problems, ...rendered.problems, ...wasm.problems], [], 'no console errors, no client errors')
  } finally {
    await browser?.close()
    pages?.server.close()
    pennon.child.kill()
  }
})
