// Packaging: `npm pack` the package, install the tarball into a scratch project in a temp
// directory, and use it from there through `require('pennon-node')`, `import`, and
// TypeScript (type-checking a consumer against the shipped index.d.ts).

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const version = require('../package.json').version
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

const SNAPSHOT = JSON.stringify({
  schemaVersion: 1,
  revision: 3,
  flags: {
    greeting: {
      type: 'string',
      state: 'on',
      variants: { formal: 'Good day', casual: 'Hi' },
      offVariant: 'formal',
      rules: [{ id: 'young', when: { attribute: 'age', op: 'lt', value: 30 }, serve: { variant: 'casual' } }],
      fallthrough: { variant: 'formal' },
    },
  },
})

let scratch
let packed

function run(command, args, cwd) {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'pennon-node-package-'))
  const [info] = JSON.parse(run(npm, ['pack', '--json', '--pack-destination', scratch], packageDir))
  packed = info
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true }))
  run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(scratch, info.filename)], scratch)
})

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

test('the tarball holds the addon for this platform, the JS entries and the types', () => {
  assert.equal(packed.name, 'pennon-node')
  assert.equal(packed.version, version)
  const files = packed.files.map((file) => file.path).sort()
  for (const expected of ['index.d.ts', 'index.js', 'index.mjs', 'package.json', 'README.md', 'pennon.linux-x64-gnu.node']) {
    assert.ok(files.includes(expected), `${expected} is packed (files: ${files.join(', ')})`)
  }
  assert.ok(!files.some((file) => file.startsWith('src/') || file.startsWith('test/') || file.endsWith('.rs')), 'no sources or tests')
  assert.ok(existsSync(join(scratch, 'node_modules', 'pennon-node', 'pennon.linux-x64-gnu.node')))
})

test('require("pennon-node") evaluates a flag in the scratch project', () => {
  writeFileSync(
    join(scratch, 'cjs.cjs'),
    `const { Engine, SnapshotError } = require('pennon-node')
     const engine = new Engine()
     engine.load(${JSON.stringify(SNAPSHOT)})
     let rejected = false
     try { engine.load('nope') } catch (error) { rejected = error instanceof SnapshotError }
     console.log(JSON.stringify([engine.getString('greeting', { age: 25 }, 'Hello'), engine.evaluate('greeting', { age: 40 }).reason, rejected]))`,
  )
  assert.equal(run(process.execPath, ['cjs.cjs'], scratch).trim(), '["Hi","DEFAULT",true]')
})

test('import from "pennon-node" evaluates a flag in the scratch project', () => {
  writeFileSync(
    join(scratch, 'esm.mjs'),
    `import { Engine, PennonError, errorCodes } from 'pennon-node'
     const engine = new Engine()
     engine.load(${JSON.stringify(SNAPSHOT)})
     const result = engine.evaluate('greeting', { age: 25 }, { type: 'string', default: 'Hello' })
     console.log(JSON.stringify([result.value, result.ruleId, result.revision, typeof PennonError, errorCodes().length > 20]))`,
  )
  assert.equal(run(process.execPath, ['esm.mjs'], scratch).trim(), '["Hi","young",3,"function",true]')
})

test('a TypeScript consumer type-checks against the shipped index.d.ts', () => {
  const tsc = join(packageDir, 'node_modules', '.bin', 'tsc')
  const rootTsc = join(packageDir, '..', '..', 'node_modules', '.bin', 'tsc')
  const compiler = existsSync(tsc) ? tsc : rootTsc
  assert.ok(existsSync(compiler), 'typescript is a devDependency (run bindings/node/setup.sh)')
  writeFileSync(
    join(scratch, 'consumer.ts'),
    `import { Engine, SnapshotError, type EvaluationResult, type Context, type LoadWarning } from 'pennon-node'
     const engine = new Engine()
     const warnings: LoadWarning[] = engine.load('{}')
     const context: Context = { targetingKey: 'u-1', groups: ['qa'], age: 3 }
     const enabled: boolean = engine.getBoolean('flag', context, false)
     const label: string = engine.getString('flag', context, 'x', Date.now())
     const limits: { rps: number } = engine.getObject('flag', context, { rps: 1 })
     const result: EvaluationResult = engine.evaluate('flag', context, { type: 'boolean', default: false })
     const all: Record<string, EvaluationResult> = engine.evaluateAll(context)
     const revision: number | null = engine.revision
     const error = new SnapshotError('m', 'invalid_json', null)
     const code: 'invalid_json' | string = error.code
     // @ts-expect-error: a flag key is a string
     engine.evaluate(42, context)
     // @ts-expect-error: unknown type name
     engine.evaluate('flag', context, { type: 'bool' })
     export { warnings, enabled, label, limits, result, all, revision, code }`,
  )
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: false, types: [] },
      files: ['consumer.ts'],
    }),
  )
  run(compiler, ['-p', 'tsconfig.json'], scratch)
})
