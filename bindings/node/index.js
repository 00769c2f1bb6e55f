'use strict'
// pennon-node: loads the native addon for this platform and registers the error classes.
// Mapping only: every answer comes from the Rust core (docs/bindings.md).

const { existsSync } = require('node:fs')
const { join } = require('node:path')

/** Addon file names this process can load, best first (`pennon.<platform>-<arch>[-<abi>].node`). */
function candidates() {
  const { platform, arch } = process
  if (platform === 'linux') return [`linux-${arch}-gnu`, `linux-${arch}-musl`]
  return [`${platform}-${arch}`]
}

function loadNative() {
  const tags = candidates()
  for (const tag of tags) {
    const file = join(__dirname, `pennon.${tag}.node`)
    if (existsSync(file)) return require(file)
  }
  throw new Error(
    `pennon-node has no native addon for ${tags.join(' or ')} in ${__dirname}. ` +
      'Build it with `node bindings/node/scripts/build.mjs` in a Pennon checkout.',
  )
}

const native = loadNative()

// The error classes and codes every Pennon JS package shares (generated from core).
const errors = require('./errors.cjs')
const { SnapshotError, ContextError, ArgumentError, InternalError } = errors

native.registerErrorClasses({ SnapshotError, ContextError, ArgumentError, InternalError })

// Taken now, before user code could replace them (the addon does the same with Object.keys).
const { keys: ownKeys } = Object
const { isArray } = Array
const { isFinite } = Number
const { apply } = Reflect

/**
 * Whether a context value certainly converts without a problem (so that an attribute the
 * flag does not read need not be handed to the addon at all).
 */
function certainlyValid(value) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true
    case 'number':
      return isFinite(value)
    default:
      return value === null
  }
}

/**
 * Appends the `key, value` pairs of `context` the addon must convert to `args`: the
 * attributes the flag reads, and every attribute whose value could be a problem (objects,
 * arrays, dates, functions, NaN…), in `Object.keys` order. Returns false, leaving `args` as
 * it was, when `context` is not a plain object or reading it throws: the addon then
 * converts (and judges) the context whole.
 */
function flatten(context, reads, args) {
  if (typeof context !== 'object' || context === null || isArray(context)) return false
  const fixed = args.length
  try {
    const names = ownKeys(context)
    for (let i = 0; i < names.length; i++) {
      const name = names[i]
      const value = context[name]
      if (reads.has(name) || !certainlyValid(value)) args.push(name, value)
    }
    return true
  } catch {
    args.length = fixed
    return false
  }
}

/** Attribute lists kept per engine before the cache starts over (unknown keys are cached too). */
const MAX_CACHED_FLAGS = 65536

/**
 * The fast paths (docs/bindings.md, "Converting only what a flag reads"): each call
 * hands the addon only the context attributes the flag can read (core's
 * `Snapshot::attributes_read`, cached per flag and snapshot generation) plus those whose
 * values need checking, instead of the addon walking the whole object through Node-API.
 * The answers are the same as converting the whole context; the conformance suite runs
 * both ways (`PENNON_NODE_NO_FAST_PATHS=1` turns this off).
 */
function withFastPaths(NativeEngine, fast) {
  const { attributesRead } = fast
  return class Engine extends NativeEngine {
    /** Generation of the snapshot the cached attribute lists belong to. */
    #generation = -1
    /** flag key → Set of the attribute names it reads. */
    #reads = new Map()

    /** The attribute names `flag` reads, or null when `flag` is not a string. */
    #attributes(flag) {
      if (typeof flag !== 'string') return null
      let reads = this.#reads.get(flag)
      if (reads === undefined) {
        const listed = apply(attributesRead, this, [flag])
        if (listed.generation !== this.#generation || this.#reads.size >= MAX_CACHED_FLAGS) {
          this.#reads.clear()
          this.#generation = listed.generation
        }
        reads = new Set(listed.attributes)
        this.#reads.set(flag, reads)
      }
      return reads
    }

    /** Calls a flattened method: `(flag, context, x, y, generation, ...pairs)`. */
    #call(method, flag, context, x, y) {
      for (let attempt = 0; attempt < 2; attempt++) {
        const reads = this.#attributes(flag)
        const args = [flag, context, x, y, this.#generation]
        if (reads === null || !flatten(context, reads, args)) args[4] = -1
        const result = apply(method, this, args)
        if (result !== undefined) return result
        // The snapshot changed since the lists were cached: list again.
        this.#reads.clear()
      }
      return apply(method, this, [flag, context, x, y, -1])
    }

    evaluate(flag, context, options) {
      return this.#call(fast.evaluate, flag, context, options, undefined)
    }

    getBoolean(flag, context, defaultValue, now) {
      return this.#call(fast.getBoolean, flag, context, defaultValue, now)
    }

    getString(flag, context, defaultValue, now) {
      return this.#call(fast.getString, flag, context, defaultValue, now)
    }

    getNumber(flag, context, defaultValue, now) {
      return this.#call(fast.getNumber, flag, context, defaultValue, now)
    }

    getObject(flag, context, defaultValue, now) {
      return this.#call(fast.getObject, flag, context, defaultValue, now)
    }
  }
}

const Engine = native.__fastPaths ? withFastPaths(native.Engine, native.__fastPaths) : native.Engine

module.exports = {
  ...native,
  ...errors,
  Engine,
}
