// The peers benchmark's W1–W3 for the Node benchmarks (client.mjs, counters.mjs):
// benches/peers/workloads/pennon.json and cases.json (benches/peers/README.md).

import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const workloads = join(root, 'benches', 'peers', 'workloads')
/** The snapshot text. */
export const text = readFileSync(join(workloads, 'pennon.json'), 'utf8')
export const cases = JSON.parse(readFileSync(join(workloads, 'cases.json'), 'utf8'))
const { userId, ...attributes } = cases.user
/** W1's and W2's user. */
export const user = { targetingKey: userId, ...attributes }
/** W3's users, taken in turn. */
export const w3Users = Array.from({ length: cases.w3Users.count }, (_, i) => ({
  targetingKey: `${cases.w3Users.prefix}${i}`,
}))
let turn = 0
/** The next W3 user. */
export const nextUser = () => w3Users[(turn = turn + 1 === w3Users.length ? 0 : turn + 1)]
/** Per workload: the flag and the context of each call. */
export const pairs = { W1: ['w1', () => user], W2: ['w2', () => user], W3: ['w3', nextUser] }

/** `--json`: machine-readable output. */
export const asJson = process.argv.includes('--json')
/** Alternated rounds per case (`--quick`: fewer and shorter). */
export const ROUNDS = process.argv.includes('--quick') ? 10 : 40
export const TARGET_ROUND_NS = process.argv.includes('--quick') ? 10e6 : 20e6
