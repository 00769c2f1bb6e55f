// Packaging: `npm pack` pennon-node, pennon-wasm and pennon, install the three tarballs into
// a scratch project outside the repository (our packages from the tarballs only; other
// dependencies from the registry), then run there what a user runs: the README's examples
// (ESM and CommonJS), every entry point by `require` and `import`, and a TypeScript
// consumer type-checked against the installed declarations.
//
// The web build is checked there too: the browser and workerd conditions resolve `pennon`
// to the packed dist/web.mjs, which imports the packed pennon-wasm.
//
// To extend: add a package to PACKAGES, a dependency to the scratch project, and a test
// that runs `node` in `scratch` (`inScratch`).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readmeExamples, runExample } from './readme-examples.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const sdk = JSON.parse(readFileSync(join(root, 'sdks', 'typescript', 'package.json'), 'utf8'))

/** The packages packed, each with a file that exists only once it is built. */
const PACKAGES = [
  { name: 'pennon-node', dir: 'bindings/node', built: 'pennon.linux-x64-gnu.node', build: 'node bindings/node/scripts/build.mjs' },
  { name: 'pennon-wasm', dir: 'wasm', built: 'dist/nodejs/index.cjs', build: 'wasm/build.sh' },
  { name: 'pennon', dir: 'sdks/typescript' },
]
/** Registry dependencies of the scratch project: the versions this repository pins. */
const FROM_REGISTRY = ['@openfeature/server-sdk', '@openfeature/web-sdk', '@openfeature/core', 'fastify', '@types/node']

const run = (command, args, cwd) => execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
let scratch
const packed = {}
const inScratch = (args) => run(process.execPath, args, scratch)

before(() => {
  for (const { name, dir, built, build } of PACKAGES) {
    if (built) assert.ok(existsSync(join(root, dir, built)), `${name} is not built (${dir}/${built} is missing): run \`${build}\``)
  }
  scratch = mkdtempSync(join(tmpdir(), 'pennon-ts-pack-'))
  const dependencies = {}
  for (const { name, dir } of PACKAGES) {
    const [info] = JSON.parse(run(npm, ['pack', '--json', '--pack-destination', scratch], join(root, dir)))
    packed[name] = info
    dependencies[name] = `file:./${info.filename}`
  }
  for (const name of FROM_REGISTRY) {
    dependencies[name] = sdk.devDependencies[name]
    assert.ok(dependencies[name], `${name} is pinned in sdks/typescript/package.json`)
  }
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true, dependencies }))
  run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline'], scratch)
})

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

test('pennon packs its entries, declarations and lib, and no tests', () => {
  const files = packed.pennon.files.map((f) => f.path).sort()
  const entries = ['index.js', 'index.mjs', 'index.d.ts', 'client.d.ts', 'web.d.ts', 'dist/web.mjs']
  for (const file of [...entries, 'openfeature.d.ts', 'fastify.d.ts', 'testing.d.ts', 'README.md']) {
    assert.ok(files.includes(file), `${file} is packed (${files.join(', ')})`)
  }
  for (const module of ['client', 'http', 'fetch', 'sse', 'middleware', 'fastify', 'openfeature', 'testing', 'platform/node']) {
    assert.ok(files.includes(`lib/${module}.js`), `lib/${module}.js is packed`)
  }
  for (const file of ['browser/index.js', 'browser/index.d.ts', 'browser/openfeature.js', 'browser/openfeature.d.ts', 'browser/package.json']) {
    assert.ok(files.includes(file), `${file} is packed`)
  }
  const expected = /^(index\.|(client|web|openfeature|fastify|testing)\.d\.ts$|dist\/web\.mjs$|lib\/|browser\/|README\.md$|package\.json$)/
  assert.deepEqual(files.filter((f) => !expected.test(f)), [])
})

test('our packages are installed from the tarballs, not from a registry', () => {
  const lock = JSON.parse(readFileSync(join(scratch, 'node_modules', '.package-lock.json'), 'utf8'))
  for (const { name } of PACKAGES) {
    const entry = lock.packages[`node_modules/${name}`]
    assert.ok(entry, `${name} is installed`)
    assert.match(entry.resolved, /^file:/, `${name} resolved from ${entry.resolved}`)
    assert.equal(lock.packages[`node_modules/pennon/node_modules/${name}`], undefined, `no second ${name}`)
  }
})

for (const [index, example] of readmeExamples().entries()) {
  test(`README example ${index + 1} (${example.lang}) in the scratch project`, () => {
    const result = runExample(scratch, example)
    assert.equal(result.status, 0, `example ${index + 1} failed:\n${result.stdout}\n${result.stderr}`)
    if (example.output !== undefined) assert.equal(result.stdout, example.output)
  })
}

test('every entry point by require and import, one module instance', () => {
  const script = `
    const pennon = require('pennon')
    const { createTestClient } = require('pennon/testing')
    const { PennonProvider } = require('pennon/openfeature')
    const { requireFlag } = require('pennon/fastify')
    const client = createTestClient({ flags: { a: true } })
    import('pennon/testing').then(async (esm) => {
      const { Client } = await import('pennon')
      console.log(JSON.stringify([
        client instanceof pennon.Client, client instanceof Client, esm.createTestClient === createTestClient,
        new PennonProvider(client).metadata.name, typeof requireFlag(client, 'a'), client.isEnabled('a', {}),
      ]))
    })`
  assert.equal(inScratch(['-e', script]).trim(), '[true,true,true,"pennon","function",true]')
})

test('browser and workerd get the packed web build, over the packed pennon-wasm', () => {
  const script = "console.log(import.meta.resolve('pennon'), import.meta.resolve('pennon-wasm/web'))"
  for (const condition of ['browser', 'workerd']) {
    const [pennon, wasm] = inScratch([`--conditions=${condition}`, '--input-type=module', '-e', script]).trim().split(' ')
    assert.equal(pennon, `file://${scratch}/node_modules/pennon/dist/web.mjs`, condition)
    assert.equal(wasm, `file://${scratch}/node_modules/pennon-wasm/dist/web/index.js`, condition)
  }
})

test('a TypeScript consumer type-checks against the installed declarations', () => {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  assert.ok(existsSync(tsc), 'typescript is a devDependency of the workspaces: run npm install at the repository root')
  for (const file of ['types.ts', 'subpaths.types.ts', 'browser-types.ts']) copyFileSync(join(here, file), join(scratch, file))
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'], skipLibCheck: false },
      files: ['types.ts', 'subpaths.types.ts', 'browser-types.ts'],
    }),
  )
  try {
    inScratch([tsc, '-p', 'tsconfig.json'])
  } catch (error) {
    assert.fail(`tsc in the scratch project:\n${error.stdout}${error.stderr}`)
  }
})
