// The engines of the peers benchmark in Node: Pennon (the napi addon and the wasm build)
// and the peers' SDKs, each loaded offline from its own definition file in ../workloads/.
//
// Every engine is an async factory returning
//   { version, context(user) → native context, w1/w2/w3(context) → boolean,
//     w4?(context) → number (ten flags, Pennon only), w4All?(context) → number }
// where `user` is an engine-neutral context of ../workloads/cases.json. The evaluation
// functions are each SDK's fastest documented in-process call; README.md says which.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))
export const root = join(here, '..', '..', '..')
const workload = (name) => readFileSync(join(here, '..', 'workloads', name), 'utf8')
const packageVersion = (name) => JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version

/** Pennon's context: the user id is the targeting key; every other attribute as is. */
const pennonContext = ({ userId, ...attributes }) => ({ targetingKey: userId, ...attributes })

/** W4: the ten flags of one request through the typed getters (a number so nothing is dropped). */
function pennonW4(engine) {
  return (c) =>
    (engine.getBoolean('w4.static-bool', c, false) ? 1 : 0) +
    (engine.getBoolean('w4.static-off', c, false) ? 1 : 0) +
    engine.getString('w4.static-string', c, '').length +
    engine.getNumber('w4.static-number', c, 0) +
    (engine.getBoolean('w4.eu-pro', c, false) ? 1 : 0) +
    engine.getString('w4.region', c, '').length +
    engine.getNumber('w4.plan-quota', c, 0) +
    (engine.getBoolean('w4.rollout-bool', c, false) ? 1 : 0) +
    engine.getString('w4.split-string', c, '').length +
    engine.getNumber('w4.rollout-number', c, 0)
}

/** The values W4 gives for one context, by flag key (for the correctness check). */
function pennonW4Values(engine) {
  return (c) => ({
    'w4.static-bool': engine.getBoolean('w4.static-bool', c, false),
    'w4.static-off': engine.getBoolean('w4.static-off', c, true),
    'w4.static-string': engine.getString('w4.static-string', c, ''),
    'w4.static-number': engine.getNumber('w4.static-number', c, 0),
    'w4.eu-pro': engine.getBoolean('w4.eu-pro', c, false),
    'w4.region': engine.getString('w4.region', c, ''),
    'w4.plan-quota': engine.getNumber('w4.plan-quota', c, 0),
    'w4.rollout-bool': engine.getBoolean('w4.rollout-bool', c, false),
    'w4.split-string': engine.getString('w4.split-string', c, ''),
    'w4.rollout-number': engine.getNumber('w4.rollout-number', c, 0),
  })
}

/** W1–W3 from pennon.json; W4 from pennon-w4.json, which holds exactly its ten flags. */
function pennonEngine(load, version) {
  const engine = load(workload('pennon.json'))
  const w4 = load(workload('pennon-w4.json'))
  return {
    version,
    context: pennonContext,
    w1: (c) => engine.getBoolean('w1', c, false),
    w2: (c) => engine.getBoolean('w2', c, false),
    w3: (c) => engine.getBoolean('w3', c, false),
    w4: pennonW4(w4),
    w4Values: pennonW4Values(w4),
    w4All: (c) => Object.keys(w4.evaluateAll(c)).length,
    w4AllValues: (c) => Object.fromEntries(Object.entries(w4.evaluateAll(c)).map(([key, r]) => [key, r.value])),
  }
}

export const ENGINES = {
  /** The napi addon (bindings/node), release build made by bindings/node/scripts/build.mjs. */
  async 'pennon-node'() {
    const { Engine } = require(join(root, 'bindings', 'node'))
    const { version } = JSON.parse(readFileSync(join(root, 'bindings', 'node', 'package.json'), 'utf8'))
    return pennonEngine((text) => {
      const engine = new Engine()
      engine.load(text)
      return engine
    }, version)
  },

  /** The wasm-bindgen build for Node (wasm/dist/nodejs, made by wasm/build.sh). */
  async 'pennon-wasm'() {
    const { Engine } = require(join(root, 'wasm', 'dist', 'nodejs', 'index.cjs'))
    const { version } = JSON.parse(readFileSync(join(root, 'wasm', 'package.json'), 'utf8'))
    return pennonEngine((text) => new Engine(text), version)
  },

  /** flagd's in-process evaluator: FlagdCore.resolveBooleanEvaluation. */
  async 'flagd-core'() {
    const { FlagdCore } = await import('@openfeature/flagd-core')
    const core = new FlagdCore()
    core.setConfigurations(workload('flagd.json'))
    return {
      version: packageVersion('@openfeature/flagd-core'),
      context: pennonContext, // an OpenFeature evaluation context: targetingKey + attributes
      w1: (c) => core.resolveBooleanEvaluation('w1', false, c).value,
      w2: (c) => core.resolveBooleanEvaluation('w2', false, c).value,
      w3: (c) => core.resolveBooleanEvaluation('w3', false, c).value,
    }
  },

  /** GrowthBook's multi-user client for servers: GrowthBookClient.isOn(key, userContext). */
  async growthbook() {
    const { GrowthBookClient } = await import('@growthbook/growthbook')
    const client = new GrowthBookClient()
    client.initSync({ payload: JSON.parse(workload('growthbook.json')) })
    return {
      version: packageVersion('@growthbook/growthbook'),
      context: ({ userId, ...attributes }) => ({ attributes: { id: userId, ...attributes } }),
      w1: (c) => client.isOn('w1', c),
      w2: (c) => client.isOn('w2', c),
      w3: (c) => client.isOn('w3', c),
    }
  },

  /** Unleash's Node SDK bootstrapped from a toggles document, polling and metrics off. */
  async unleash() {
    const { Unleash, InMemStorageProvider } = await import('unleash-client')
    const unleash = new Unleash({
      appName: 'pennon-peers-bench',
      // Never contacted: refreshInterval 0 disables fetching, disableMetrics registration and metrics.
      url: 'http://127.0.0.1:9/api/',
      refreshInterval: 0,
      disableMetrics: true,
      skipInstanceCountWarning: true,
      storageProvider: new InMemStorageProvider(),
      bootstrap: { data: JSON.parse(workload('unleash.json')).features },
    })
    unleash.on('error', (error) => {
      throw error
    })
    await new Promise((resolve) => unleash.once('synchronized', resolve))
    return {
      version: packageVersion('unleash-client'),
      // Unleash context fields are strings; custom fields go in `properties`.
      context: ({ userId, age, ...attributes }) => ({ userId, properties: { ...attributes, age: String(age) } }),
      w1: (c) => unleash.isEnabled('w1', c),
      w2: (c) => unleash.isEnabled('w2', c),
      w3: (c) => unleash.isEnabled('w3', c),
      close: () => unleash.destroy(),
    }
  },

  /** Flipt's client-side evaluation SDK (a Rust engine compiled to wasm), fed by an in-process fetcher. */
  async flipt() {
    const { FliptClient } = await import('@flipt-io/flipt-client-js')
    const state = workload('flipt.json')
    const client = await FliptClient.init({
      namespace: 'default',
      updateInterval: 0, // no background refresh
      fetcher: async () => new Response(state, { status: 200, headers: { 'content-type': 'application/json' } }),
    })
    const evaluate = (flagKey, c) => client.evaluateBoolean({ flagKey, entityId: c.entityId, context: c.context }).enabled
    return {
      version: packageVersion('@flipt-io/flipt-client-js'),
      // Flipt contexts are string → string maps; the entity id is the bucketing unit.
      context: ({ userId, age, ...attributes }) => ({ entityId: userId, context: { ...attributes, age: String(age) } }),
      w1: (c) => evaluate('w1', c),
      w2: (c) => evaluate('w2', c),
      w3: (c) => evaluate('w3', c),
      // Flipt has no version comparison: its W2 only requires appVersion to be non-empty.
      cannotExpress: ['appVersion'],
    }
  },

  /** Not an engine: the harness loop with a function that returns true (the overhead in every figure). */
  async baseline() {
    return { version: '-', context: (user) => user, w1: (c) => c !== null }
  },
}
