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
const { keys: ownKeys, defineProperty } = Object
const { isArray } = Array
const { isFinite } = Number
const { apply } = Reflect
const { floor } = Math
const { now: clock } = Date

/**
 * Whether a context value certainly converts without a problem (so that an attribute the
 * flag does not read need not be handed to the addon at all).
 */
function certainlyValid(value) {
  switch (typeof value) {
    case 'string':
      // A lone surrogate has no UTF-8 form: the addon reports it (INVALID_CONTEXT).
      return value.isWellFormed()
    case 'boolean':
    case 'undefined':
      return true
    case 'number':
      return isFinite(value)
    default:
      return value === null
  }
}

/** `flatten` could not read the context: the addon converts (and judges) it whole. */
const WHOLE = -1
/** `flatten` read the context, and every value certainly converts. */
const CONVERTS = 0
/** `flatten` read the context, and some value needs the addon's check. */
const UNSURE = 1

/**
 * Appends the `key, value` pairs of `context` the addon must convert to `args`: the
 * attributes the flag reads, and every attribute whose value could be a problem (objects,
 * arrays, dates, functions, NaN…), in `Object.keys` order. Returns UNSURE when there was
 * any of the latter, else CONVERTS; or WHOLE, leaving `args` as it was, when `context` is
 * not a plain object or reading it throws: the addon then converts (and judges) it whole.
 */
function flatten(context, reads, args) {
  if (typeof context !== 'object' || context === null) return WHOLE
  const fixed = args.length
  let status = CONVERTS
  try {
    // Inside the try: `Array.isArray` throws for a revoked Proxy.
    if (isArray(context)) return WHOLE
    const names = ownKeys(context)
    for (let i = 0; i < names.length; i++) {
      const name = names[i]
      const value = context[name]
      if (!certainlyValid(value) || !name.isWellFormed()) status = UNSURE
      else if (!reads.has(name)) continue
      args.push(name, value)
    }
    return status
  } catch {
    args.length = fixed
    return WHOLE
  }
}

/** The pairs `check` found, read right after it returns. */
let unsure = null

/**
 * `flatten` for a flag that reads no attribute, kept apart so that the hot loop of each
 * stays monomorphic: whether every value of `context` certainly converts, with the pairs
 * of those that may not left in `unsure`.
 */
function check(context) {
  if (typeof context !== 'object' || context === null) return WHOLE
  let pairs = null
  try {
    if (isArray(context)) return WHOLE
    const names = ownKeys(context)
    for (let i = 0; i < names.length; i++) {
      const value = context[names[i]]
      if (!certainlyValid(value) || !names[i].isWellFormed()) (pairs ??= []).push(names[i], value)
    }
  } catch {
    return WHOLE
  }
  unsure = pairs
  return pairs === null ? CONVERTS : UNSURE
}

/** A fresh copy of a JSON value as the addon builds it (own data properties, same order). */
function copy(value) {
  if (typeof value !== 'object' || value === null) return value
  if (isArray(value)) {
    const out = new Array(value.length)
    for (let i = 0; i < value.length; i++) out[i] = copy(value[i])
    return out
  }
  const out = {}
  const names = ownKeys(value)
  for (let i = 0; i < names.length; i++) {
    const name = names[i]
    if (name === '__proto__') {
      defineProperty(out, name, { value: copy(value[name]), writable: true, enumerable: true, configurable: true })
    } else {
      out[name] = copy(value[name])
    }
  }
  return out
}

/**
 * `now` as the addon reads it: ms, floored; the host clock when absent. NaN when the addon
 * would throw (NaN is in no span).
 */
function instant(now) {
  if (now === undefined || now === null) return clock()
  return typeof now === 'number' && isFinite(now) ? floor(now) : Number.NaN
}

/** Call kinds: `evaluate`, then the typed getters by their flag type. */
const EVALUATE = 0
const TYPES = [null, 'boolean', 'string', 'number', 'object']
const OBJECT = 4

/** Whether `value` is a valid default for the typed getter of `kind` (else the addon throws). */
function fitsDefault(kind, value) {
  // An array is no object default (pennon_host::args::check_default).
  return kind === OBJECT ? typeof value === 'object' && !isArray(value) : typeof value === TYPES[kind]
}

/** The latency `outcomeBits` read, right after it returns. */
let outcomeLatency

/**
 * An outcome whose keys are all known (`ok`, `error`, `converted`, `latencyMs`) with values
 * of their types, as bits (`ok` 1, `error` 2, `converted` 4; the latency left in
 * `outcomeLatency`), so that the addon need not read the object; -1 for any other value,
 * which the addon reads and judges itself (with the errors every binding gives).
 */
function outcomeBits(outcome) {
  if (typeof outcome !== 'object' || outcome === null) return -1
  let bits = 0
  outcomeLatency = undefined
  try {
    if (isArray(outcome)) return -1
    const names = ownKeys(outcome)
    for (let i = 0; i < names.length; i++) {
      const name = names[i]
      const value = outcome[name]
      if (name === 'latencyMs') {
        if (typeof value !== 'number' && value !== undefined) return -1
        outcomeLatency = value
        continue
      }
      const bit = name === 'ok' ? 1 : name === 'error' ? 2 : name === 'converted' ? 4 : 0
      if (bit === 0 || (typeof value !== 'boolean' && value !== undefined)) return -1
      if (value === true) bits |= bit
    }
  } catch {
    return -1
  }
  return bits
}

/** The constant table cannot answer this call: the addon does. */
const MISS = Symbol('miss')
/** The context of a call for a constant flag was read, and certainly converts. */
const SCANNED = Symbol('scanned')
/** The pairs `#scan` read (what a constant flag reads), read right after it returns. */
let scanned = null

/**
 * A typed getter's answer from a constant table entry (`x` the default), counted in the
 * entry when `counting` (an answer of another type is the addon's TYPE_MISMATCH).
 */
function typedAnswer(entry, kind, x, counting) {
  stats.tableAnswers++
  if (entry.kind !== kind) {
    if (counting) entry.mismatches++
    return x
  }
  if (counting) entry.answers++
  return kind === OBJECT ? copy(entry.value) : entry.value
}

/** Attribute lists kept per engine before the cache starts over (unknown keys are cached too). */
const MAX_CACHED_FLAGS = 65536

/** How many calls `index.js` answered from the constant table (for the tests). */
const stats = { tableAnswers: 0 }

/**
 * The fast paths (docs/bindings.md, "Converting only what a flag reads"): each call
 * hands the addon only the context attributes the flag can read (core's
 * `Snapshot::attributes_read`, cached per flag and snapshot generation) plus those whose
 * values need checking, instead of the addon walking the whole object through Node-API.
 *
 * Flags whose result is the same for every context (core's `Snapshot::constants`: no
 * targeting, off, killed, outside their window…) are answered from a table kept per
 * engine, without calling the addon at all, when every value of the context certainly
 * converts (a context that does not convert is INVALID_CONTEXT whatever the flag) and
 * `now` is within the span core gave for the flag. The table is built by the first call
 * after each load, and again when `now` passes the end of a flag's span.
 *
 * The answers are the same as converting the whole context; the conformance suite runs
 * both ways (`PENNON_NODE_NO_FAST_PATHS=1` turns all of this off).
 */
function withFastPaths(NativeEngine, fast) {
  const { attributesRead, constants } = fast
  const tally = NativeEngine.prototype.__tally
  return class Engine extends NativeEngine {
    /** Generation of the snapshot the cached attribute lists belong to. */
    #generation = -1
    /** flag key → Set of the attribute names it reads. */
    #reads = new Map()
    /** flag key → `{ type, since, until, result, reads }` of the constant flags; null: to build. */
    #table = null
    /** Generation of the snapshot the table belongs to. */
    #tableGeneration = -1
    /** The instant from which the table may differ (a window opens, an override expires…). */
    #tableUntil = Infinity
    /** Counts loads, so that a call can tell that a context getter reloaded the engine. */
    #loads = 0
    /** Whether evaluations are counted (`countEvaluations`): table answers then count in their entry. */
    #counting = false

    static {
      // Every load (through this class or the addon's own prototype) drops the table.
      for (const name of ['load', 'loadShared']) {
        const original = NativeEngine.prototype[name]
        const wrapped = {
          [name](...args) {
            try {
              return apply(original, this, args)
            } finally {
              if (#loads in this) {
                this.#tally()
                this.#table = null
                this.#loads++
              }
            }
          },
        }[name]
        defineProperty(NativeEngine.prototype, name, { value: wrapped, writable: true, enumerable: true, configurable: true })
      }
    }

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

    /**
     * Hands the counts of the table's answers to the addon's counters (which count every
     * other answer): before the table is dropped, and before reading or switching counters.
     */
    #tally() {
      if (this.#table === null) return
      for (const [key, entry] of this.#table) {
        if (entry.answers > 0) apply(tally, this, [key, entry.result.variant, entry.result.reason, entry.answers])
        if (entry.mismatches > 0) apply(tally, this, [key, null, 'ERROR', entry.mismatches])
        entry.answers = 0
        entry.mismatches = 0
      }
    }

    countEvaluations(enabled) {
      this.#tally()
      const result = super.countEvaluations(enabled)
      this.#counting = enabled === true
      return result
    }

    shareCounters(previous) {
      if (#table in previous) previous.#tally()
      this.#tally()
      const result = super.shareCounters(previous)
      this.#counting = #counting in previous ? previous.#counting : this.#counting
      return result
    }

    metrics() {
      this.#tally()
      return super.metrics()
    }

    takeOutcomes(batchId, sdk) {
      // The exposures of a batch are the counters' deltas: the table's answers count too.
      this.#tally()
      return super.takeOutcomes(batchId, sdk)
    }

    /** Lists the constant flags at `at` (core's `Snapshot::constants`). */
    #build(at) {
      this.#tally()
      const { generation, until, flags } = apply(constants, this, [at])
      const table = new Map()
      for (let i = 0; i + 5 < flags.length; i += 6) {
        const type = flags[i + 1]
        const result = flags[i + 4]
        const attributes = flags[i + 5]
        table.set(flags[i], {
          // The typed getter that gets `value` (any other gets its default), -1 for none.
          kind: result.errorCode === null ? TYPES.indexOf(type) : -1,
          value: result.value,
          type,
          since: flags[i + 2],
          until: flags[i + 3],
          result,
          reads: attributes.length === 0 ? null : new Set(attributes),
          // Answers given from this entry while counting, and typed calls of another type.
          answers: 0,
          mismatches: 0,
        })
      }
      this.#table = table
      this.#tableGeneration = generation
      this.#tableUntil = until
      return table
    }

    /** `flag`'s entry in the constant table if its span holds `at`, else undefined. */
    #constant(flag, at) {
      if (at !== at) return undefined // NaN: the addon throws for this `now`
      // Built again when `now` passes the table's span (an earlier `now` asks the addon).
      const table = this.#table === null || at >= this.#tableUntil ? this.#build(at) : this.#table
      const entry = table.get(flag)
      return entry !== undefined && at >= entry.since && at < entry.until ? entry : undefined
    }

    /**
     * The answer from the constant table for a context that converts, or MISS. `kind` is
     * EVALUATE (`x` the options) or a typed getter (`x, y` the default and `now`). For
     * `evaluate`, the options read here replace `args[2]`, so that the addon does not read
     * them a second time on a MISS.
     */
    #fromTable(kind, flag, x, y, args) {
      if (kind !== EVALUATE) {
        const entry = fitsDefault(kind, x) ? this.#constant(flag, instant(y)) : undefined
        return entry === undefined ? MISS : typedAnswer(entry, kind, x, this.#counting)
      }
      if (x === undefined || x === null) return this.#result(flag, null, null, clock())
      if (typeof x !== 'object') return MISS
      const type = x.type
      if (type !== undefined && type !== null && !(typeof type === 'string' && TYPES.includes(type))) {
        args[2] = { type }
        return MISS
      }
      const defaultValue = x.default
      const now = x.now
      args[2] = { type, default: defaultValue, now }
      return this.#result(flag, type ?? null, defaultValue === undefined ? null : defaultValue, instant(now))
    }

    /** `evaluate`'s result object from the table, or MISS. */
    #result(flag, type, defaultValue, at) {
      const entry = this.#constant(flag, at)
      if (entry === undefined || (type !== null && entry.type !== null && entry.type !== type)) return MISS
      stats.tableAnswers++
      if (this.#counting) entry.answers++
      const r = entry.result
      return {
        value: r.errorCode === null ? copy(r.value) : defaultValue,
        variant: r.variant,
        reason: r.reason,
        ruleId: r.ruleId,
        stage: r.stage,
        shadowVariant: r.shadowVariant,
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        revision: r.revision,
        flagMetadata: copy(r.flagMetadata),
      }
    }

    /**
     * Reads the context for a flag in the constant table (what the flag reads and what
     * needs checking, as `#call` does, each getter once) and returns SCANNED, the pairs
     * left in `scanned`, when the table may answer; otherwise hands the addon what was
     * read and returns its answer.
     */
    #scan(method, kind, flag, context, x, y, entry) {
      const loads = this.#loads
      let status = CONVERTS
      let pairs = null
      if (context !== undefined && entry.reads === null) {
        status = check(context)
        pairs = status === UNSURE ? unsure : null
      } else if (context !== undefined) {
        pairs = []
        status = flatten(context, entry.reads, pairs)
      }
      scanned = pairs
      if (status === CONVERTS && this.#loads === loads) return SCANNED
      return this.#hand(method, kind, flag, context, x, y, status, status === WHOLE ? null : pairs)
    }

    /** Calls the addon with the context pairs read for a flag of the constant table. */
    #hand(method, kind, flag, context, x, y, status, pairs) {
      const args = [flag, context, x, y, status === WHOLE ? -1 : this.#tableGeneration]
      if (pairs !== null) for (let i = 0; i < pairs.length; i++) args.push(pairs[i])
      const result = apply(method, this, args)
      // Undefined: the snapshot changed under the call (a getter loaded another).
      return result !== undefined ? result : this.#call(method, kind, flag, context, x, y)
    }

    /** A typed getter: from the constant table when `flag` is in it at `now`. */
    #typed(method, kind, flag, context, x, y) {
      const entry = this.#table?.get(flag)
      if (entry !== undefined && fitsDefault(kind, x)) {
        const at = instant(y)
        if (at >= entry.since && at < entry.until && at < this.#tableUntil) {
          const read = this.#scan(method, kind, flag, context, x, y, entry)
          return read === SCANNED ? typedAnswer(entry, kind, x, this.#counting) : read
        }
      }
      return this.#call(method, kind, flag, context, x, y)
    }

    /** Calls a flattened method: `(flag, context, x, y, generation, ...pairs)`. */
    #call(method, kind, flag, context, x, y) {
      for (let attempt = 0; attempt < 2; attempt++) {
        const reads = this.#attributes(flag)
        const loads = this.#loads
        const args = [flag, context, x, y, this.#generation]
        const status = reads === null ? WHOLE : flatten(context, reads, args)
        if (status === WHOLE) args[4] = -1
        // The first call after a load builds the constant table (later ones use it directly),
        // and while a boundary lies ahead, calls check whether `now` passed it.
        const ask = (this.#table === null || this.#tableUntil !== Infinity) && this.#loads === loads
        if (ask && reads !== null && (status === CONVERTS || context === undefined)) {
          const answer = this.#fromTable(kind, flag, x, y, args)
          if (answer !== MISS) return answer
        }
        const result = apply(method, this, args)
        if (result !== undefined) return result
        // The snapshot changed since the lists were cached: list again.
        this.#reads.clear()
        x = args[2]
      }
      return apply(method, this, [flag, context, x, y, -1])
    }

    evaluate(flag, context, options) {
      const entry = this.#table?.get(flag)
      if (entry === undefined) return this.#call(fast.evaluate, EVALUATE, flag, context, options, undefined)
      const read = this.#scan(fast.evaluate, EVALUATE, flag, context, options, undefined, entry)
      if (read !== SCANNED) return read
      const pairs = scanned
      // The options are read after the context, as the addon reads them.
      const args = [flag, context, options, undefined, this.#tableGeneration]
      const answer = this.#fromTable(EVALUATE, flag, options, undefined, args)
      if (answer !== MISS) return answer
      return this.#hand(fast.evaluate, EVALUATE, flag, context, args[2], undefined, CONVERTS, pairs)
    }

    getBoolean(flag, context, defaultValue, now) {
      return this.#typed(fast.getBoolean, 1, flag, context, defaultValue, now)
    }

    /** `record`: the context flattened to what the flag reads, as for the getters (no table). */
    record(flag, context, outcome, now) {
      const bits = outcomeBits(outcome)
      const x = bits < 0 ? outcome : bits
      const latency = bits < 0 ? undefined : outcomeLatency
      for (let attempt = 0; attempt < 2; attempt++) {
        const reads = this.#attributes(flag)
        const args = [flag, context, x, latency, now, this.#generation]
        if (reads === null || flatten(context, reads, args) === WHOLE) args[5] = -1
        // Undefined: the snapshot changed since the lists were cached: list again.
        if (apply(fast.record, this, args) !== undefined) return
        this.#reads.clear()
      }
      apply(fast.record, this, [flag, context, x, latency, now, -1])
    }

    getString(flag, context, defaultValue, now) {
      return this.#typed(fast.getString, 2, flag, context, defaultValue, now)
    }

    getNumber(flag, context, defaultValue, now) {
      return this.#typed(fast.getNumber, 3, flag, context, defaultValue, now)
    }

    getObject(flag, context, defaultValue, now) {
      return this.#typed(fast.getObject, OBJECT, flag, context, defaultValue, now)
    }
  }
}

const Engine = native.__fastPaths ? withFastPaths(native.Engine, native.__fastPaths) : native.Engine

// The asynchronous loading API of the JS contract (contract.d.ts), which pennon-wasm needs
// for its regex module. The addon links the regex engine itself: nothing to fetch first.
defineProperty(native.Engine.prototype, 'loadAsync', {
  value: async function loadAsync(snapshot) {
    return this.load(snapshot)
  },
  writable: true,
  configurable: true,
})
defineProperty(Engine, 'create', {
  value: async function create(snapshot) {
    return new Engine(snapshot)
  },
  writable: true,
  configurable: true,
})
/** Nothing to load: the addon matches regular expressions itself (pennon-wasm loads a module). */
async function initRegex() {}
/** Nothing to load: the addon matches regular expressions itself. */
function initRegexSync() {}

module.exports = {
  ...native,
  ...errors,
  Engine,
  initRegex,
  initRegexSync,
}

// Internal, for the tests: how many calls the constant table answered.
Object.defineProperty(module.exports, '__fastPathStats', { value: stats })
