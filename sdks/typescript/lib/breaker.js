'use strict'
// The circuit breaker of the refresh loop (docs/sdk.md, Refresh 6). After `threshold`
// consecutive failed checks it opens for `openFor` ms: no request at all. Then one check
// is let through (half-open): a success closes it, a failure opens it again.

class Breaker {
  constructor(threshold, openFor) {
    this.threshold = Math.max(1, threshold)
    this.openFor = openFor
    this.failures = 0
    /** 'closed' | 'open' | 'half-open' */
    this.state = 'closed'
    this.until = 0
  }

  /** 0 when a check may run at `now` (ms, monotonic), else how long to wait. */
  permit(now) {
    if (this.state !== 'open') return 0
    if (now >= this.until) {
      this.state = 'half-open'
      return 0
    }
    return this.until - now
  }

  success() {
    this.failures = 0
    this.state = 'closed'
  }

  failure(now) {
    this.failures++
    if (this.state === 'half-open' || this.failures >= this.threshold) {
      this.state = 'open'
      this.until = now + this.openFor
    }
  }
}

module.exports = { Breaker }
