'use strict'
// Reconnect delays: exponential backoff with full jitter (docs/sdk.md, Refresh 4).

/** `random(0, min(cap, base · 2^attempt))` in ms, with `unit` the random draw in `[0, 1)`. */
function backoffDelay(base, cap, attempt, unit) {
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 31))
  return ceiling * Math.min(Math.max(unit, 0), 1)
}

/** The reconnect attempt counter of one stream, with its jitter source. */
class Backoff {
  constructor(base, cap, random = Math.random) {
    this.base = base
    this.cap = cap
    this.attempt = 0
    this.random = random
  }

  /** The delay (ms) before the next attempt; each call counts one more attempt. */
  nextDelay() {
    const delay = backoffDelay(this.base, this.cap, this.attempt, this.random())
    this.attempt = Math.min(this.attempt + 1, 1000)
    return delay
  }

  /** After a stream delivered an event. */
  reset() {
    this.attempt = 0
  }
}

module.exports = { Backoff, backoffDelay }
