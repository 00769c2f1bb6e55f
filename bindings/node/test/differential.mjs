#!/usr/bin/env node
// Differential mode of the Node addon (docs/bindings.md): evaluates a JSON-lines file of
// requests and writes one canonical result per line, serialising the JS result objects
// the addon returned (so the conversion code is what gets compared with the other
// bindings, byte for byte).
//
//   node bindings/node/test/differential.mjs IN.jsonl OUT.jsonl
//
// Snapshot paths in requests are relative to the repository root; loaded snapshots are
// cached by path.

import { createReadStream, createWriteStream, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, isAbsolute, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

import { outcome } from '../../../tests/differential/outcome.mjs'

const require = createRequire(import.meta.url)
const pennon = require('../index.js')
const { Engine } = pennon
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** Orders strings by their UTF-8 bytes, which is code point order (not UTF-16 order). */
export function compareCodePoints(a, b) {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // A surrogate belongs to a character above U+FFFF, above every BMP character.
    const xSurrogate = x >= 0xd800 && x <= 0xdfff
    const ySurrogate = y >= 0xd800 && y <= 0xdfff
    if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1
    return x - y
  }
  return a.length - b.length
}

const EXACT = 2 ** 53

/**
 * A number as `pennon_core::json::canonical` writes it: integral values within ±2^53
 * without fraction; others as serde_json writes an f64 (shortest round-trip digits, fixed
 * notation for decimal exponents −5…15 with `.0` after an integral value, otherwise
 * `d.ddde±x`).
 */
export function canonicalNumber(value) {
  if (!Number.isFinite(value)) throw new Error(`not a JSON number: ${value}`)
  if (Number.isInteger(value) && Math.abs(value) <= EXACT) return String(value === 0 ? 0 : value)
  const [mantissa, exponentText] = value.toExponential().split('e')
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace('-', '').replace('.', '')
  const exponent = Number(exponentText)
  let text
  if (exponent >= -5 && exponent <= 15) {
    if (exponent >= 0) {
      const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0')
      const fraction = digits.slice(exponent + 1)
      text = `${whole}.${fraction || '0'}`
    } else {
      text = `0.${'0'.repeat(-exponent - 1)}${digits}`
    }
  } else {
    const rest = digits.slice(1)
    text = `${digits[0]}${rest ? `.${rest}` : ''}e${exponent < 0 ? '-' : '+'}${Math.abs(exponent)}`
  }
  return negative ? `-${text}` : text
}

/** Canonical JSON: keys sorted by UTF-8 bytes, no whitespace, canonical numbers. */
export function canonical(value) {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      return canonicalNumber(value)
    case 'string':
      return JSON.stringify(value)
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
      const keys = Object.keys(value).sort(compareCodePoints)
      return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(',')}}`
    }
    default:
      throw new Error(`not a JSON value: ${typeof value}`)
  }
}

async function main([input, output]) {
  if (!input || !output) {
    console.error('usage: node bindings/node/test/differential.mjs IN.jsonl OUT.jsonl')
    return 2
  }
  const engines = new Map()
  const engineFor = (path) => {
    let engine = engines.get(path)
    if (!engine) {
      engine = new Engine()
      engine.load(readFileSync(isAbsolute(path) ? path : join(root, path), 'utf8'))
      engines.set(path, engine)
    }
    return engine
  }
  const out = createWriteStream(output)
  const lines = createInterface({ input: createReadStream(input), crlfDelay: Infinity })
  let count = 0
  let chunk = []
  for await (const line of lines) {
    if (line.trim() === '') continue
    const request = JSON.parse(line)
    const options = { default: request.default, now: request.now }
    if (request.type !== 'any') options.type = request.type
    const engine = engineFor(request.snapshot)
    chunk.push(canonical(outcome(pennon, () => engine.evaluate(request.flag, request.context, options))))
    count++
    if (chunk.length >= 1000) {
      out.write(`${chunk.join('\n')}\n`)
      chunk = []
    }
  }
  if (chunk.length > 0) out.write(`${chunk.join('\n')}\n`)
  await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())))
  const table = pennon.__fastPathStats ? `, ${pennon.__fastPathStats.tableAnswers} from the constant table` : ''
  console.log(`node: ${count} results written to ${output}${table}`)
  return 0
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (error) => {
      console.error(`error: ${error.stack ?? error}`)
      process.exitCode = 1
    },
  )
}
