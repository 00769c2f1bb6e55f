// The dashboard in a real browser: Debian's headless Chromium, driven by playwright-core
// (which never downloads a browser), against a real `pennon serve` with the example flags.
// People are tokens (alice and bob admins, dana a developer); applications are SDK clients
// (the Rust SDK, through `pennon-rollouts watch`). Elements are found by the accessible
// roles and names the dashboard promises (notes: issue 11's contracts, section 2).
// The scenarios share one server and run in order (the screenshots visit the canary's
// rollout page). Any console error or page error fails the scenario it happens in.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { accessibility, drive, launch, open, screenshot, signIn, startPennon, watch } from './harness.mjs'

const BUSINESS = { targetingKey: 'u-1', plan: 'business' }
const CANARY = 'checkout.fraud-screen'
let pennon
let browser
let development
let production

before(async () => {
  pennon = await startPennon()
  browser = await launch()
  // reports.export-pdf is on for business plans; payments.kill-switch serves true to all.
  development = await watch(pennon, 'development', ['reports.export-pdf', 'payments.kill-switch'], BUSINESS)
  production = await watch(pennon, 'production', ['reports.export-pdf', 'payments.kill-switch'], BUSINESS)
})

after(async () => {
  development?.stop()
  production?.stop()
  await browser?.close()
  await pennon?.stop()
})

/** Runs `scenario` on a signed-in page of `person` in a browser context of its own; its console errors, page errors and failed requests go to `problems`. */
async function as(person, problems, scenario) {
  const session = await open(browser)
  try {
    await signIn(session.page, pennon.url, pennon.tokens[person])
    await scenario(session.page)
  } finally {
    problems.push(...session.problems)
    await session.close()
  }
}

/** The end of every scenario: nothing went wrong in any of its pages. */
const noProblems = (problems) => assert.deepEqual(problems, [], 'no console errors, no page errors, no failed requests')

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

test('sign in, find a flag, change its state with a reason: the audit trail shows it, an SDK client gets it', { timeout: 60_000 }, async () => {
  const problems = []
  const key = 'reports.export-pdf'
  const reason = 'dashboard test: exports paused for the PDF renderer upgrade'
  await development.waitFor((e) => e.flag === key && e.value === true, 1000, `${key} on for a business plan before the change`)
  await as('alice', problems, async (page) => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Flags' }).click()
    await page.getByRole('heading', { name: 'Flags', exact: true }).waitFor()
    await page.getByRole('combobox', { name: 'Environment' }).selectOption('development')
    const table = page.getByRole('table', { name: 'Flags in development' })
    // The Rollout column says where core puts the canary now: every stage has run.
    await table.getByRole('row').filter({ hasText: 'checkout.new-flow' }).filter({ hasText: 'canary stage 4/4 · 100%' }).waitFor()
    await page.getByRole('searchbox', { name: 'Search flags' }).fill('export')
    await table.getByRole('link', { name: 'checkout.express-pay', exact: true }).waitFor({ state: 'detached' })
    await table.getByRole('link', { name: key, exact: true }).click()

    await page.getByRole('heading', { level: 1, name: key, exact: true }).waitFor()
    await page.getByRole('combobox', { name: 'New state' }).selectOption('off')
    await page.getByRole('textbox', { name: 'Reason', exact: true }).fill(reason)
    await page.getByRole('button', { name: 'Change state', exact: true }).click()
    const status = page.getByRole('status').filter({ hasText: /State changed to off \(revision \d+\)/ })
    await status.waitFor()
    const revision = Number(/revision (\d+)/.exec(await status.textContent())[1])
    const seen = await development.waitFor((e) => e.flag === key && e.revision >= revision, 5000, `revision ${revision} of ${key}`)
    assert.equal(seen.value, false, `the SDK client evaluates ${key} at revision ${seen.revision}: ${JSON.stringify(seen)}`)
    assert.equal(seen.variant, 'off')

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click()
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor()
    const entries = page.getByRole('table', { name: 'Audit entries' })
    await entries.getByRole('row').filter({ hasText: key }).filter({ hasText: reason }).filter({ hasText: 'alice' }).waitFor()
    await page.getByRole('status').filter({ hasText: 'Chain verified' }).waitFor()
    // The server filters by action: only state changes remain (the import goes).
    await page.getByRole('combobox', { name: 'Action' }).selectOption('state')
    await entries.getByRole('row').filter({ hasText: 'import' }).first().waitFor({ state: 'detached' })
    const actions = await entries.getByRole('row').evaluateAll((rows) => rows.slice(1).map((row) => row.cells[2]?.textContent))
    assert.ok(actions.length > 0 && actions.every((action) => action === 'state'), `actions shown: ${actions}`)
  })
  noProblems(problems)
})

test('a flag page: a viewer cannot change it; raw JSON, evaluate, a tenant override with expiry, and a rollback shown as a diff', { timeout: 60_000 }, async () => {
  const problems = []
  const key = 'reports.export-pdf' // off since the first scenario (revision 1 had it on)
  const route = `${pennon.url}/#/env/development/flags/${key}`
  await as('victor', problems, async (page) => {
    await page.goto(route)
    await page.getByRole('heading', { level: 1, name: key, exact: true }).waitFor()
    await page.getByRole('region', { name: 'Variants' }).waitFor()
    for (const name of ['Change state', 'Kill', 'Add override', 'Roll back to revision 1']) {
      assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `a viewer sees no "${name}"`)
    }
  })
  await as('alice', problems, async (page) => {
    await page.goto(route)
    await page.getByRole('heading', { level: 1, name: key, exact: true }).waitFor()
    await page.getByRole('button', { name: 'Raw JSON' }).click()
    assert.equal(JSON.parse(await page.getByLabel(`Definition of ${key}`).textContent()).state, 'off')

    // The panel's answer once its reason is `reason` (so a previous answer is never read).
    const evaluate = async (context, reason) => {
      const panel = page.getByRole('region', { name: 'Evaluate' })
      await panel.getByRole('textbox', { name: 'Context (JSON)' }).fill(JSON.stringify(context))
      await panel.getByRole('button', { name: 'Evaluate' }).click()
      const result = page.getByRole('region', { name: 'Evaluation result' })
      await result.locator('dd').filter({ hasText: new RegExp(`^${reason}$`) }).waitFor()
      const values = await result.locator('dd').allTextContents()
      return Object.fromEntries(['value', 'variant', 'reason', 'rule', 'stage'].map((name, i) => [name, values[i]]))
    }
    assert.deepEqual(await evaluate(BUSINESS, 'DISABLED'), { value: 'false', variant: 'off', reason: 'DISABLED', rule: '—', stage: '—' })

    const overrides = page.getByRole('region', { name: 'Overrides' })
    await overrides.getByRole('textbox', { name: 'Tenant' }).fill('umbrella')
    await overrides.getByRole('textbox', { name: 'Variant' }).fill('on')
    await overrides.getByLabel('Expires').fill('2030-01-01T12:00')
    await overrides.getByRole('button', { name: 'Add override' }).click()
    const listed = overrides.getByRole('listitem').filter({ hasText: 'umbrella' })
    await listed.filter({ hasText: /until/ }).waitFor()
    assert.match(await listed.locator('time').getAttribute('title'), /2030-01-01 \d\d:00:00 UTC/)
    await overrides.getByRole('button', { name: 'Remove override for umbrella' }).click()
    await listed.waitFor({ state: 'detached' })

    await page.getByRole('button', { name: 'Roll back to revision 1' }).click()
    const dialog = page.getByRole('dialog', { name: `Roll back ${key} to revision 1` })
    assert.match(await dialog.textContent(), /state/, 'the rollback dialog shows what changes')
    await dialog.getByRole('textbox', { name: 'Reason' }).fill('dashboard test: the renderer is back')
    await dialog.getByRole('button', { name: 'Roll back', exact: true }).click()
    await page.getByRole('status').filter({ hasText: /Rolled back to revision 1 \(revision \d+\)/ }).waitFor()
    assert.deepEqual(await evaluate(BUSINESS, 'TARGETING_MATCH'), { value: 'true', variant: 'on', reason: 'TARGETING_MATCH', rule: 'paid-plans', stage: '—' })
  })
  await development.waitFor((e) => e.flag === key && e.value === true, 5000, `${key} on again for the SDK client after the rollback`)
  noProblems(problems)
})

test('a developer kills a flag in every environment in one step: SDK clients evaluate it off within 1 s, protected production included', { timeout: 60_000 }, async () => {
  const problems = []
  const key = 'payments.kill-switch'
  await development.waitFor((e) => e.flag === key && e.value === true, 1000, `${key} serving true before the kill`)
  await production.waitFor((e) => e.flag === key && e.value === true, 1000, `${key} serving true in production before the kill`)
  await as('dana', problems, async (page) => {
    await page.goto(`${pennon.url}/#/env/development/flags/${key}`)
    await page.getByRole('heading', { level: 1, name: key, exact: true }).waitFor()
    await page.getByRole('button', { name: 'Kill', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: `Kill ${key}` })
    await dialog.getByRole('textbox', { name: 'Reason' }).fill('dashboard test: card-testing attack')
    await dialog.getByRole('checkbox', { name: 'In every environment' }).check()
    const clicked = Date.now()
    await dialog.getByRole('button', { name: 'Kill flag' }).click()
    const seen = await development.waitFor((e) => e.flag === key && e.value === false, 5000, `${key} off after the kill`)
    const elapsed = seen.atMs - clicked
    console.log(`# the SDK client evaluated ${key} off ${elapsed} ms after the click on "Kill flag" (reason ${seen.reason})`)
    assert.equal(seen.reason, 'KILLED')
    assert.ok(elapsed <= 1000, `the kill reached the SDK client after ${elapsed} ms (over 1 s)`)
    // A kill never waits for approval, even a developer's in protected production.
    const prod = await production.waitFor((e) => e.flag === key && e.value === false, 5000, `${key} off in production`)
    assert.equal(prod.reason, 'KILLED')
    assert.ok(prod.atMs - clicked <= 1000, `the kill reached production's SDK client after ${prod.atMs - clicked} ms (over 1 s)`)
    await page.getByRole('status').filter({ hasText: /Killed in development, production/ }).waitFor()
  })
  noProblems(problems)
})

test('a developer proposes a change in protected production; another admin runs a what-if and approves it; the author cannot', { timeout: 90_000 }, async () => {
  const problems = []
  const key = 'reports.export-pdf'
  const contexts = Array.from({ length: 10 }, (_, n) => ({ targetingKey: `u-${n}`, plan: n % 2 ? 'free' : 'business' }))
  await pennon.call(pennon.tokens.dana, 'PUT', '/api/v1/environments/production/context-sets/plans', {
    contexts,
    description: 'five business and five free accounts',
  })
  await production.waitFor((e) => e.flag === key && e.value === true, 1000, `${key} on in production before the change`)
  const article = (page) => page.getByRole('article', { name: new RegExp(`${escape(key)} in production$`) })
  let id
  await as('dana', problems, async (page) => {
    await page.goto(`${pennon.url}/#/env/production/flags/${key}`)
    await page.getByRole('heading', { level: 1, name: key, exact: true }).waitFor()
    await page.getByRole('combobox', { name: 'New state' }).selectOption('off')
    await page.getByRole('textbox', { name: 'Reason', exact: true }).fill('dashboard test: PDF exports off in production')
    await page.getByRole('button', { name: 'Change state', exact: true }).click()
    const status = page.getByRole('status').filter({ hasText: /Change request \S+ created: waiting for approval/ })
    await status.waitFor()
    id = /Change request (\S+) created/.exec(await status.textContent())[1]
    // The author's view of the queue: Approve is there, disabled, and says why.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Approvals' }).click()
    await page.getByRole('heading', { name: 'Approvals', exact: true }).waitFor()
    await article(page).waitFor()
    assert.equal(await article(page).getByRole('button', { name: 'Approve' }).isDisabled(), true, "the author's Approve is enabled")
    await article(page).getByText('You cannot approve your own change').waitFor()
  })
  const pending = await production.waitFor((e) => e.flag === key && e.value === false, 300, 'nothing published').catch(() => null)
  assert.equal(pending, null, `the change was published before approval: ${JSON.stringify(pending)}`)

  await as('bob', problems, async (page) => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Approvals' }).click()
    await page.getByRole('heading', { name: 'Approvals', exact: true }).waitFor()
    const request = article(page)
    await request.getByRole('combobox', { name: 'Context set' }).selectOption('plans')
    await request.getByRole('button', { name: 'Run what-if' }).click()
    await page.getByRole('table', { name: 'What-if results' }).waitFor()
    // The business half loses PDF export; the free half had none.
    await page.getByText('5 of 10 contexts flip').waitFor()
    await request.getByRole('textbox', { name: 'Reason' }).fill('dashboard test: approved after the what-if')
    const approve = request.getByRole('button', { name: 'Approve' })
    assert.equal(await approve.isEnabled(), true, "another admin's Approve is disabled")
    await approve.click()
    // Decided: the request leaves the queue (no Approve any more) for the decided list.
    await approve.waitFor({ state: 'detached' })
    await page.getByRole('heading', { name: 'Decided' }).waitFor()
  })
  const request = await pennon.call(pennon.tokens.victor, 'GET', `/api/v1/change-requests/${id}`)
  assert.equal(request.status, 'applied', JSON.stringify(request))
  assert.equal(request.decidedBy, 'bob', JSON.stringify(request))
  const { revision } = await pennon.call(pennon.tokens.victor, 'GET', '/api/v1/environments/production/snapshot')
  const seen = await production.waitFor((e) => e.flag === key && e.value === false, 5000, `${key} off in production after the approval (revision ${revision})`)
  console.log(`# change request ${id} approved by bob, published as production revision ${seen.revision}`)
  noProblems(problems)
})

test('a simulated canary with an error regression: the rollout page shows the threshold crossed and the rollback', { timeout: 90_000 }, async () => {
  const problems = []
  const driven = drive(pennon, ['--flag', CANARY, '--regression', 'errors:+20', '--stages', '10,50,100', '--stage-duration', 'PT2S', '--min-requests', '200', '--rate', '400', '--deadline', '60'])
  let ended = null
  driven.then((result) => (ended = result))
  // The page opens once the rollout exists (a 404 would be a console error).
  const exists = Date.now() + 30_000
  while (!(await fetch(`${pennon.url}/api/v1/environments/development/rollouts/${CANARY}`, { headers: { authorization: `Bearer ${pennon.tokens.victor}` } })).ok) {
    assert.equal(ended, null, 'pennon-rollouts drive ended before its rollout existed')
    assert.ok(Date.now() < exists, 'pennon-rollouts drive started no rollout within 30 s')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await as('victor', problems, async (page) => {
    await page.goto(`${pennon.url}/#/env/development/rollouts/${CANARY}`)
    await page.getByRole('heading', { name: `Rollout of ${CANARY}` }).waitFor()
    await page.getByRole('list', { name: 'Stages' }).waitFor()
    const { code, summary } = await driven
    console.log(`# pennon-rollouts drive: ${JSON.stringify(summary)}`)
    assert.equal(code, 0, `drive exited ${code}`)
    assert.equal(summary.outcome, 'rolled_back', JSON.stringify(summary))
    // Live: the page follows the rollback without a reload.
    const decisions = page.getByRole('list', { name: 'Decisions' })
    await decisions.getByRole('listitem').filter({ hasText: /roll(ed)?[ _]?back/i }).first().waitFor({ timeout: 10_000 })
    await page.getByRole('figure', { name: 'Error rate: canary vs control' }).waitFor()
    await page.getByRole('figure', { name: 'Latency p95: canary vs control' }).waitFor()
    // The tables may be visually collapsed; they are in the accessibility tree either way.
    const rows = page.getByRole('table', { name: 'Error rate over time', includeHidden: true }).getByRole('row', { includeHidden: true })
    await rows.filter({ hasText: 'above threshold' }).first().waitFor({ state: 'attached', timeout: 10_000 })
  })
  noProblems(problems)
})

test("a rollout's page: a developer pauses, resumes, promotes and aborts it, and each decision is listed", { timeout: 60_000 }, async () => {
  const problems = []
  const key = 'checkout.new-flow'
  const stages = [{ percentage: 10, minDuration: 'PT1H' }, { percentage: 50, minDuration: 'PT1H' }, { percentage: 100 }]
  await pennon.call(pennon.tokens.alice, 'POST', `/api/v1/environments/development/rollouts/${key}`, { stages, reason: 'dashboard test' })
  await as('dana', problems, async (page) => {
    await page.goto(`${pennon.url}/#/env/development/rollouts/${key}`)
    await page.getByRole('heading', { name: `Rollout of ${key}` }).waitFor()
    const summary = page.locator('.rollout-summary')
    const state = async (word, stage) => {
      await summary.filter({ hasText: new RegExp(`^${word} in development: stage ${stage} of 3`) }).waitFor()
    }
    await state('running', 1)
    await page.getByRole('button', { name: 'Pause', exact: true }).click()
    await state('paused', 1)
    assert.equal(await page.getByRole('button', { name: 'Pause', exact: true }).isDisabled(), true, 'a paused rollout cannot be paused')
    await page.getByRole('button', { name: 'Resume', exact: true }).click()
    await state('running', 1)
    await page.getByRole('button', { name: 'Promote', exact: true }).click()
    await state('running', 2)
    await page.getByRole('button', { name: 'Abort', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: `Abort the rollout of ${key}` })
    await dialog.getByRole('textbox', { name: 'Reason' }).fill('dashboard test: enough')
    await dialog.getByRole('button', { name: 'Abort rollout' }).click()
    await state('aborted', 2)
    const decisions = await page.getByRole('list', { name: 'Decisions' }).getByRole('listitem').allTextContents()
    for (const [i, kind] of ['aborted', 'promoted', 'resumed', 'paused', 'started'].entries()) {
      assert.match(decisions[i] ?? '', new RegExp(`^${kind}\\b.*by (dana|alice)`), `decision ${i}: ${decisions}`)
    }
  })
  noProblems(problems)
})

test('an experiment: exposures and conversions from the SDK metrics route become lift, intervals and a sample-ratio alert', { timeout: 60_000 }, async () => {
  // What SDKs send every metrics interval (docs/control-plane.md, "Outcomes and
  // experiments"), over the same route and key: the split promises 34/33/33, and
  // two-months-free got far fewer exposures than that.
  const batch = {
    batch: randomBytes(16).toString('hex'),
    sdk: 'dashboard-test/1',
    flags: {
      'pricing.annual-plan-copy': {
        control: { exposures: 3400, conversions: 340 },
        'save-20': { exposures: 3300, conversions: 429 },
        'two-months-free': { exposures: 2000, conversions: 200 },
      },
    },
  }
  const response = await fetch(`${pennon.url}/sdk/v1/metrics`, {
    method: 'POST',
    headers: { authorization: `Bearer ${pennon.sdkKeys.development}`, 'content-type': 'application/json' },
    body: JSON.stringify(batch),
  })
  assert.equal(response.status, 202, await response.text())
  const problems = []
  await as('victor', problems, async (page) => {
    await page.goto(`${pennon.url}/#/env/development/experiments/pricing.annual-plan-copy`)
    await page.getByRole('heading', { name: 'Experiment pricing.annual-plan-copy' }).waitFor()
    const variants = page.getByRole('table', { name: 'Variants' })
    const save20 = variants.getByRole('row').filter({ hasText: 'save-20' })
    await save20.filter({ hasText: /3,?300/ }).waitFor({ timeout: 10_000 })
    const text = await save20.innerText()
    // 13 % against 10 %: a lift of +30 % and an interval around it.
    assert.match(text, /429/, text)
    assert.match(text, /\+30(\.0+)?\s?%/, text)
    assert.match(text, /13(\.0+)?\s?%/, text)
    assert.match(text, /\[[−+]?\d+\.\d %, \+\d+\.\d %\]/, text)
    await page.getByRole('alert').filter({ hasText: 'Sample ratio mismatch' }).waitFor({ timeout: 10_000 })
  })
  noProblems(problems)
})

test('every page at 1280×800 and 390×844: screenshots, no serious or critical axe violations, no console errors', { timeout: 90_000 }, async () => {
  const pages = [
    ['flags', '#/flags?env=development', { name: 'Flags', exact: true }],
    ['compare', '#/compare', { name: 'Flags across environments' }, 'table'],
    ['flag', '#/env/development/flags/reports.export-pdf', { level: 1, name: 'reports.export-pdf', exact: true }],
    ['rollout', `#/env/development/rollouts/${CANARY}`, { name: `Rollout of ${CANARY}` }],
    ['experiment', '#/env/development/experiments/pricing.annual-plan-copy', { name: 'Experiment pricing.annual-plan-copy' }],
    ['approvals', '#/approvals', { name: /checkout\.express-pay in production$/ }, 'article'],
    ['audit', '#/audit', { name: 'Audit trail' }],
  ]
  // A request waiting for approval, so the approvals page shows one in full.
  const waiting = await pennon.call(pennon.tokens.dana, 'POST', '/api/v1/environments/production/flags/checkout.express-pay/state', {
    state: 'off',
    reason: 'dashboard test: wallet provider outage drill',
  })
  assert.equal(waiting.changeRequest?.status, 'pending', JSON.stringify(waiting))
  const violations = []
  const problems = []
  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    const session = await open(browser, viewport)
    try {
      const { page } = session
      const visit = async (name) => {
        // Let the rest of the data arrive before judging contrast and names (the event
        // stream keeps a request open: no 'networkidle').
        await page.waitForTimeout(400)
        for (const v of await accessibility(page)) violations.push(`${name} ${viewport.width}: ${v}`)
        console.log(`# ${await screenshot(page, name)}`)
      }
      await page.goto(`${pennon.url}/#/signin`)
      await page.getByRole('heading', { name: 'Sign in to Pennon' }).waitFor()
      await visit('signin')
      await signIn(page, pennon.url, pennon.tokens.alice)
      for (const [name, route, heading, role = 'heading'] of pages) {
        await page.goto(`${pennon.url}/${route}`)
        await page.getByRole(role, heading).waitFor()
        await visit(name)
      }
    } finally {
      problems.push(...session.problems)
      await session.close()
    }
  }
  assert.deepEqual(violations, [], 'axe-core: serious or critical violations')
  noProblems(problems)
})
