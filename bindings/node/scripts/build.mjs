#!/usr/bin/env node
// Builds the pennon-node addon and its type definitions.
//
//   node bindings/node/scripts/build.mjs            release build, writes index.d.ts
//   node bindings/node/scripts/build.mjs --check    release build, fails if index.d.ts is stale
//
// Why not `napi build --platform`: it always passes `--target x86_64-unknown-linux-gnu`,
// which makes Cargo build every dependency a second time into target/<triple>/ instead of
// reusing target/release/ that the other crates of the workspace share. This script runs
// plain `cargo build --release -p pennon-node` with napi-derive's type-definition folder
// set (exactly what `napi build` sets), copies the cdylib to `pennon.<platform>.node`, and
// renders index.d.ts with the CLI's own `generateTypeDef`.

import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateTypeDef } from '@napi-rs/cli'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const repoRoot = join(packageDir, '..', '..')
const check = process.argv.includes('--check')

function platformTag() {
  const { platform, arch } = process
  if (platform !== 'linux') return `${platform}-${arch}`
  return `linux-${arch}-${process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl'}`
}

const targetDir = process.env.CARGO_TARGET_DIR ?? join(repoRoot, 'target')
const typeDefDir = join(targetDir, 'napi-rs', 'pennon-node-typedef')
mkdirSync(typeDefDir, { recursive: true })

const env = { ...process.env, NAPI_TYPE_DEF_TMP_FOLDER: typeDefDir }
// napi-derive writes the type definitions while it expands the macros, so the crate must
// be compiled (not just up to date) when they are missing: napi-build reruns on this.
if (!existsSync(join(typeDefDir, 'pennon-node'))) env.NAPI_FORCE_BUILD_PENNON_NODE = String(Date.now())

console.log('build.mjs: cargo build --release -p pennon-node')
const cargo = spawnSync('cargo', ['build', '--release', '-p', 'pennon-node'], { cwd: repoRoot, env, stdio: 'inherit' })
if (cargo.status !== 0) process.exit(cargo.status ?? 1)

const library = { linux: 'libpennon_node.so', darwin: 'libpennon_node.dylib', win32: 'pennon_node.dll' }[process.platform]
const built = join(targetDir, 'release', library)
const addon = join(packageDir, `pennon.${platformTag()}.node`)
// Copy then rename: a process that has the old addon mapped keeps a consistent file.
copyFileSync(built, `${addon}.tmp`)
renameSync(`${addon}.tmp`, addon)
console.log(`build.mjs: ${relative(repoRoot, built)} → ${relative(repoRoot, addon)}`)

const { dts } = await generateTypeDef({
  typeDefDir,
  cwd: packageDir,
  dtsHeaderFile: 'src/header.d.ts',
})
const dtsPath = join(packageDir, 'index.d.ts')
const current = existsSync(dtsPath) ? readFileSync(dtsPath, 'utf8') : ''
if (current === dts) {
  console.log('build.mjs: index.d.ts is up to date')
} else if (check) {
  const fresh = join(targetDir, 'napi-rs', 'pennon-node.index.d.ts')
  writeFileSync(fresh, dts)
  spawnSync('diff', ['-u', dtsPath, fresh], { stdio: 'inherit' })
  console.error(`build.mjs: index.d.ts is stale: run \`node bindings/node/scripts/build.mjs\` and commit it`)
  process.exit(1)
} else {
  writeFileSync(dtsPath, dts)
  console.log('build.mjs: wrote index.d.ts')
}
