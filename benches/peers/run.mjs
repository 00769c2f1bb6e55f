#!/usr/bin/env node
// The peers benchmark: every (engine, workload) case in its own child process, one after
// the other, then the tables (medians, Pennon ÷ fastest peer, W4) on stdout and in
// RESULTS.md. Called by run.sh, which builds Pennon's artefacts first.
//
//   node benches/peers/run.mjs            full run, writes RESULTS.md
//   node benches/peers/run.mjs --quick    shorter rounds, writes RESULTS.md (marked quick)
//   node benches/peers/run.mjs --check    only the correctness checks, one process per engine
//
// Children run inside a network namespace without any interface up (`unshare -n`) when the
// machine allows it, which proves that no case touches the network.

import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const quick = process.argv.includes('--quick')
const checkOnly = process.argv.includes('--check')
const startedAt = new Date()
const loadAtStart = loadavg()

const PEERS_PYTHON = join(here, '.venv', 'bin', 'python')
const PENNON_PYTHON = join(root, '.venv', 'bin', 'python')

/** The engines of each runtime; `pennon` ones are compared with the fastest peer. */
const RUNTIMES = {
  node: {
    label: 'Node',
    engines: ['pennon-node', 'pennon-wasm', 'flagd-core', 'growthbook', 'unleash', 'flipt'],
    pennon: ['pennon-node', 'pennon-wasm'],
    command: () => [process.execPath, join(here, 'node', 'case.mjs')],
  },
  python: {
    label: 'Python',
    engines: ['pennon-python', 'flagd-core', 'growthbook', 'unleash', 'flipt'],
    pennon: ['pennon-python'],
    command: (engine) => [engine === 'pennon-python' ? PENNON_PYTHON : PEERS_PYTHON, join(here, 'python', 'case.py')],
  },
}

/** Issue 7's targets for Pennon ÷ fastest peer (below 1: Pennon is faster). */
const TARGETS = {
  'pennon-node': { W1: 0.5, W2: 0.6, W3: 0.7 },
  'pennon-wasm': { W1: 0.5, W2: 1.5, W3: 1.5 },
  'pennon-python': { W1: 0.1, W2: 0.1, W3: 0.1 },
}

const WORKLOAD_NAMES = {
  W1: 'W1 static boolean',
  W2: 'W2 five-check rule',
  W3: 'W3 50 % rollout (1,000 users)',
}

const isolated = spawnSync('unshare', ['-n', 'true']).status === 0

function runChild(runtime, engine, workload, extra) {
  const [program, ...args] = RUNTIMES[runtime].command(engine)
  const argv = [...args, engine, workload, ...extra]
  const child = isolated
    ? spawnSync('unshare', ['-n', program, ...argv], { encoding: 'utf8' })
    : spawnSync(program, argv, { encoding: 'utf8' })
  const line = (child.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop()
  if (!line) {
    return { engine, runtime, workload, crashed: `exit ${child.status ?? child.signal}: ${(child.stderr ?? '').trim().slice(-800)}` }
  }
  return { ...JSON.parse(line), runtime }
}

function requireArtefacts() {
  const missing = [
    [join(root, 'bindings', 'node', 'index.js'), 'bindings/node (node bindings/node/scripts/build.mjs)'],
    [join(root, 'wasm', 'dist', 'nodejs', 'index.cjs'), 'wasm/dist (wasm/build.sh)'],
    [PENNON_PYTHON, 'the repository .venv (bindings/python/setup.sh, then maturin develop --release)'],
    [PEERS_PYTHON, 'benches/peers/.venv (benches/peers/setup.sh)'],
    [join(here, 'node', 'node_modules', '@openfeature', 'flagd-core'), 'benches/peers/node/node_modules (benches/peers/setup.sh)'],
  ].filter(([path]) => !existsSync(path))
  if (missing.length) {
    console.error(`missing: ${missing.map(([, what]) => what).join('; ')}: run benches/peers/run.sh (it builds and installs them)`)
    process.exit(2)
  }
}

function makeFliptSnapshot() {
  const made = spawnSync(process.execPath, [join(here, 'node', 'flipt-snapshot.mjs')], { encoding: 'utf8' })
  if (made.status !== 0) {
    console.error(`flipt-snapshot.mjs failed:\n${made.stderr}`)
    process.exit(1)
  }
}

// ---------------------------------------------------------------------------------------
// --check: one process per engine runs every workload's checks.

function check() {
  let passed = 0
  let failed = 0
  for (const [runtime, spec] of Object.entries(RUNTIMES)) {
    for (const engine of [...spec.engines, 'baseline']) {
      const result = runChild(runtime, engine, 'all', ['--check'])
      if (result.crashed) {
        failed++
        console.log(`FAIL ${runtime} ${engine}: ${result.crashed}`)
        continue
      }
      for (const [workload, c] of Object.entries(result.checks)) {
        const ok = c.failed.length === 0
        ok ? passed++ : failed++
        const detail = [...c.failed, ...c.notes].join('; ')
        console.log(`${ok ? 'ok  ' : 'FAIL'} ${runtime} ${engine} ${workload}: ${c.passed} assertions${detail ? ` (${detail})` : ''}`)
      }
    }
  }
  console.log(`peers check${isolated ? ' (children without network: unshare -n)' : ''}`)
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed === 0 ? 0 : 1)
}

// ---------------------------------------------------------------------------------------
// Timing run.

const fmt = (ns) => (ns === undefined ? '–' : Math.round(ns).toLocaleString('en-US'))
const ratio = (a, b) => (a / b).toFixed(2)

function timingRun() {
  const extra = quick ? ['--quick'] : []
  const results = []
  const cases = []
  for (const [runtime, spec] of Object.entries(RUNTIMES)) {
    for (const workload of ['W1', 'W2', 'W3']) for (const engine of spec.engines) cases.push([runtime, engine, workload])
    for (const workload of ['W4', 'W4all']) for (const engine of spec.pennon) cases.push([runtime, engine, workload])
    cases.push([runtime, 'baseline', 'W1'])
  }
  console.log(`peers benchmark, ${quick ? 'quick' : 'full'} run: ${cases.length} cases, each in its own process${isolated ? ' without network (unshare -n)' : ''}`)
  for (const [runtime, engine, workload] of cases) {
    const r = runChild(runtime, engine, workload, extra)
    results.push(r)
    const failedChecks = Object.values(r.checks ?? {}).flatMap((c) => c.failed)
    const status = r.crashed ? `CRASHED ${r.crashed}` : failedChecks.length ? `CHECK FAILED ${failedChecks.join('; ')}` : ''
    console.log(
      `${runtime.padEnd(7)} ${engine.padEnd(14)} ${workload.padEnd(6)} ${fmt(r.cpuNs).padStart(9)} ns CPU ${fmt(r.wallNs).padStart(9)} ns wall ${status}`,
    )
  }
  const failures = results.filter((r) => r.crashed || Object.values(r.checks ?? {}).some((c) => c.failed.length))
  const markdown = report(results)
  console.log(`\n${markdown}`)
  writeFileSync(join(here, 'RESULTS.md'), markdown)
  console.log(`written: ${relative(root, join(here, 'RESULTS.md'))}`)
  if (failures.length) {
    console.error(`${failures.length} case(s) failed or crashed: see above`)
    process.exit(1)
  }
}

function versions() {
  const lock = JSON.parse(readFileSync(join(here, 'node', 'package-lock.json'), 'utf8'))
  const npm = Object.entries(lock.packages)
    .filter(([path]) => path.startsWith('node_modules/'))
    .map(([path, p]) => `${path.slice('node_modules/'.length)}@${p.version}`)
    .sort()
  const freeze = spawnSync(PEERS_PYTHON, ['-m', 'pip', 'freeze', '--all'], { encoding: 'utf8' }).stdout.trim().split('\n').sort()
  const pennonPython = spawnSync(PENNON_PYTHON, ['-c', 'import sys, pennon; print(pennon.__version__, sys.version.split()[0])'], {
    encoding: 'utf8',
  }).stdout.trim()
  const git = (args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout.trim()
  const tool = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.trim() ?? '?'
  const peersPython = tool(PEERS_PYTHON, ['--version'])
  return { npm, freeze, pennonPython, peersPython, commit: git(['rev-parse', '--short=12', 'HEAD']), dirty: git(['status', '--porcelain', '--', '.', ':!benches/peers/RESULTS.md']) !== '', rustc: tool('rustc', ['--version']), wasmBindgen: tool('wasm-bindgen', ['--version']) }
}

function report(results) {
  const get = (runtime, engine, workload) => results.find((r) => r.runtime === runtime && r.engine === engine && r.workload === workload)
  const lines = []
  const loadAtEnd = loadavg()
  const v = versions()
  const command = `benches/peers/run.sh${quick ? ' --quick' : ''}`
  lines.push('# Peers benchmark: results')
  lines.push('')
  lines.push(`Written by \`${command}\` (${quick ? 'quick' : 'full'} run) on ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}. What is measured and how to`)
  lines.push('read it: [README.md](README.md). Figures are the median round\'s **CPU time per evaluation** in ns')
  lines.push('(the process\'s user + system time over the round ÷ evaluations in the round); the wall-clock')
  lines.push('medians are in the last table. Lower is better.')
  lines.push('')
  lines.push(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} at the start, ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')} at the end${loadAtStart[0] > 1.5 || loadAtEnd[0] > 1.5 ? ' (**other jobs were running**: wall-clock figures are inflated, CPU-time figures much less so)' : ''}.`,
  )
  lines.push(`Each case ran in its own process${isolated ? ', inside a network namespace with no interface up (`unshare -n`): nothing reached a network' : ''}.`)
  lines.push('')
  for (const [runtime, spec] of Object.entries(RUNTIMES)) {
    lines.push(`## ${spec.label}: ns per evaluation`)
    lines.push('')
    lines.push(`| workload | ${spec.engines.join(' | ')} |`)
    lines.push(`|---|${spec.engines.map(() => '---:').join('|')}|`)
    for (const workload of ['W1', 'W2', 'W3']) {
      lines.push(`| ${WORKLOAD_NAMES[workload]} | ${spec.engines.map((e) => fmt(get(runtime, e, workload)?.cpuNs)).join(' | ')} |`)
    }
    lines.push('')
    const partial = spec.engines.filter((e) => (get(runtime, e, 'W2')?.checks?.W2?.notes ?? []).some((n) => n.includes('not expressible')))
    if (partial.length) {
      lines.push(`${partial.join(', ')}: W2 without the version check, which this SDK cannot express (README.md).`)
      lines.push('')
    }
  }
  lines.push('## Pennon ÷ fastest peer (below 1: Pennon is faster)')
  lines.push('')
  lines.push('| runtime | workload | fastest peer | its ns | Pennon | Pennon ns | ratio | target (issue 7) |')
  lines.push('|---|---|---|---:|---|---:|---:|---|')
  for (const [runtime, spec] of Object.entries(RUNTIMES)) {
    for (const workload of ['W1', 'W2', 'W3']) {
      const peers = spec.engines
        .filter((e) => !spec.pennon.includes(e))
        .map((e) => get(runtime, e, workload))
        .filter((r) => r?.cpuNs !== undefined)
        .sort((a, b) => a.cpuNs - b.cpuNs)
      const fastest = peers[0]
      for (const engine of spec.pennon) {
        const p = get(runtime, engine, workload)
        if (!fastest || p?.cpuNs === undefined) continue
        const value = p.cpuNs / fastest.cpuNs
        const target = TARGETS[engine][workload]
        lines.push(
          `| ${spec.label} | ${workload} | ${fastest.engine} | ${fmt(fastest.cpuNs)} | ${engine} | ${fmt(p.cpuNs)} | ${ratio(p.cpuNs, fastest.cpuNs)} | ≤ ${target}: ${value <= target ? 'met' : 'missed'} |`,
        )
      }
    }
  }
  lines.push('')
  lines.push('## W4 (Pennon only): one request context, ten flags, ns per request')
  lines.push('')
  lines.push('| engine | ten typed getters | per flag | evaluateAll (ten flags) | per flag |')
  lines.push('|---|---:|---:|---:|---:|')
  for (const [runtime, spec] of Object.entries(RUNTIMES)) {
    for (const engine of spec.pennon) {
      const a = get(runtime, engine, 'W4')?.cpuNs
      const b = get(runtime, engine, 'W4all')?.cpuNs
      lines.push(`| ${engine} | ${fmt(a)} | ${fmt(a / 10)} | ${fmt(b)} | ${fmt(b / 10)} |`)
    }
  }
  lines.push('')
  lines.push('## Harness overhead')
  lines.push('')
  lines.push('The loop itself with a function that returns `true` (included in every figure above):')
  lines.push(
    Object.keys(RUNTIMES)
      .map((runtime) => `${RUNTIMES[runtime].label} ${fmt(get(runtime, 'baseline', 'W1')?.cpuNs)} ns`)
      .join(', ') + ' per call.',
  )
  lines.push('')
  lines.push('## Every case: CPU time and wall clock')
  lines.push('')
  lines.push('| runtime | engine | workload | CPU ns (median) | CPU ns (fastest round) | wall ns (median) | evaluations per round × rounds | checks |')
  lines.push('|---|---|---|---:|---:|---:|---:|---|')
  for (const r of results) {
    const checks = r.crashed
      ? `crashed: ${r.crashed.replaceAll('|', '/').replaceAll('\n', ' ').slice(0, 200)}`
      : Object.entries(r.checks)
          .map(([w, c]) => `${c.passed} ok${c.failed.length ? `, ${c.failed.length} FAILED` : ''}${c.notes.length ? ` (${c.notes.join('; ')})` : ''}`)
          .join('; ')
    lines.push(
      `| ${r.runtime} | ${r.engine} | ${r.workload} | ${fmt(r.cpuNs)} | ${fmt(r.cpuNsMin)} | ${fmt(r.wallNs)} | ${r.calls ? `${r.calls.toLocaleString('en-US')} × ${r.rounds}` : '–'} | ${checks} |`,
    )
  }
  lines.push('')
  lines.push('## Versions')
  lines.push('')
  lines.push(`- Pennon: commit \`${v.commit}\`${v.dirty ? ' (with uncommitted changes)' : ''}; pennon-node ${get('node', 'pennon-node', 'W1')?.version ?? '?'} and pennon-wasm ${get('node', 'pennon-wasm', 'W1')?.version ?? '?'} (release builds), pennon (Python) ${v.pennonPython.replace(' ', ' under Python ')}; ${v.rustc}; ${v.wasmBindgen}`)
  lines.push(`- Node ${process.version}; Python of the peers venv: ${v.peersPython}`)
  for (const [runtime, spec] of Object.entries(RUNTIMES)) {
    const peers = spec.engines.filter((e) => !spec.pennon.includes(e))
    lines.push(`- ${spec.label} peers: ${peers.map((e) => `${e} ${get(runtime, e, 'W1')?.version ?? '?'}`).join(', ')}`)
  }
  lines.push(`- every npm package installed in benches/peers/node (package-lock.json): ${v.npm.join(', ')}`)
  lines.push(`- every Python package in benches/peers/.venv (requirements.txt): ${v.freeze.join(', ')}`)
  lines.push('')
  return lines.join('\n')
}

requireArtefacts()
makeFliptSnapshot()
if (checkOnly) check()
else timingRun()
