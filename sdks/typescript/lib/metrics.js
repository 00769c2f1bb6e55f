'use strict'
// Evaluation counters per flag × variant × reason, rendered as Prometheus text. JS is
// single-threaded: a counter is a plain number in nested maps (no lock exists to avoid).

/** At most this many flag × variant series; further ones count under flag `_other`. */
const MAX_SERIES = 10_000
const OTHER = '_other'

class Metrics {
  #table = new Map()
  #series = 0

  /** Counts one evaluation; `variant` is `''` when none was served. */
  count(flag, variant, reason) {
    let variants = this.#table.get(flag)
    let reasons = variants?.get(variant)
    if (reasons === undefined) {
      if (this.#series >= MAX_SERIES) {
        flag = OTHER
        variant = ''
        variants = this.#table.get(flag)
        reasons = variants?.get(variant)
      }
      if (reasons === undefined) {
        if (variants === undefined) this.#table.set(flag, (variants = new Map()))
        variants.set(variant, (reasons = new Map()))
        this.#series++
      }
    }
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
  }

  /** Prometheus text exposition, series sorted. */
  render() {
    const rows = []
    for (const [flag, variants] of this.#table) {
      for (const [variant, reasons] of variants) {
        for (const [reason, n] of reasons) rows.push([flag, variant, reason, n])
      }
    }
    const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0)
    rows.sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1]) || cmp(a[2], b[2]))
    let out =
      '# HELP pennon_evaluations_total Flag evaluations by flag, variant and reason.\n' +
      '# TYPE pennon_evaluations_total counter\n'
    for (const [flag, variant, reason, n] of rows) {
      out += `pennon_evaluations_total{flag="${escape(flag)}",variant="${escape(variant)}",reason="${escape(reason)}"} ${n}\n`
    }
    return out
  }
}

function escape(label) {
  return label.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

module.exports = { Metrics }
