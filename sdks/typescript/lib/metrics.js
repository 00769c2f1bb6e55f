'use strict'
// Evaluation counters per flag × variant × reason, rendered as Prometheus text. JS is
// single-threaded: a counter is a plain number (no lock exists to avoid), found by the flag
// and a short scan of its series.

/** At most this many flag × variant series; further ones count under flag `_other`. */
const MAX_SERIES = 10_000
const OTHER = '_other'

class Metrics {
  /** flag → its series, `[{variant, reason, n}]` (a flag has few: scanned, no key built). */
  #table = new Map()
  #series = 0

  /** Counts one evaluation; `variant` is `''` when none was served. */
  count(flag, variant, reason) {
    let cells = this.#table.get(flag)
    if (cells !== undefined) {
      for (let i = 0; i < cells.length; i++) {
        const cell = cells[i]
        if (cell.variant === variant && cell.reason === reason) {
          cell.n++
          return
        }
      }
    }
    // A new flag × variant pair beyond the limit counts under `_other`.
    if (this.#series >= MAX_SERIES && !cells?.some((cell) => cell.variant === variant)) {
      if (flag !== OTHER) return this.count(OTHER, '', reason)
    }
    if (cells === undefined) this.#table.set(flag, (cells = []))
    if (!cells.some((cell) => cell.variant === variant)) this.#series++
    cells.push({ variant, reason, n: 1 })
  }

  /** Prometheus text exposition, series sorted. */
  render() {
    const rows = []
    for (const [flag, cells] of this.#table) {
      for (const { variant, reason, n } of cells) rows.push([flag, variant, reason, n])
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
