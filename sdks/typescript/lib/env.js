'use strict'
// Environment-variable overrides (docs/sdk.md, Evaluation): `checkout.new-flow` ↔
// `PENNON_FLAG_CHECKOUT_NEW_FLOW`.

const PREFIX = 'PENNON_FLAG_'

/** The prefix, then the key upper-cased with every character outside `[A-Z0-9]` as `_`. */
function variableName(flag) {
  let name = PREFIX
  for (const c of flag) {
    const upper = c.length === 1 && c.charCodeAt(0) < 128 ? c.toUpperCase() : c
    name += /^[A-Z0-9]$/.test(upper) ? upper : '_'
  }
  return name
}

/** A variable's value: JSON when it parses, else the text as a string. */
function parseValue(text) {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Every `PENNON_FLAG_*` variable of `vars` (an object of strings), by name, parsed. */
function collect(vars) {
  const out = new Map()
  for (const [name, text] of Object.entries(vars)) {
    if (name.startsWith(PREFIX) && typeof text === 'string') out.set(name, parseValue(text))
  }
  return out
}

module.exports = { variableName, parseValue, collect, PREFIX }
