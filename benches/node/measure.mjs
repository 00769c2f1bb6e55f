// The timing loop of the Node benchmarks (bench.mjs: the addon; client.mjs: the client).
// Calibrates a round of about `targetRoundNs`, warming up on the way, then times `rounds`
// rounds of N calls each, by wall clock (process.hrtime) and by this process's CPU time
// (process.cpuUsage: user + system, meaningful when other jobs share the cores). Returns
// the median round's ns per call of each with the fastest round. Every call's result
// feeds a sink, so that no call can be optimised away.

let sink = 0

/** N calls of `fn` that take about `targetRoundNs`, found while warming up. */
export function calibrate(fn, targetRoundNs) {
  let n = 1000
  for (;;) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) sink += fn()
    const elapsed = Number(process.hrtime.bigint() - start)
    if (elapsed > targetRoundNs / 4) {
      n = Math.max(1000, Math.round((n * targetRoundNs) / elapsed))
      break
    }
    n *= 4
  }
  for (let i = 0; i < n; i++) sink += fn()
  return n
}

/** One timed round of `n` calls: `{cpu, wall}` ns per call. */
export function round(fn, n) {
  const cpuStart = process.cpuUsage()
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) sink += fn()
  const wall = Number(process.hrtime.bigint() - start) / n
  const used = process.cpuUsage(cpuStart)
  return { cpu: ((used.user + used.system) * 1000) / n, wall }
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
export const fastest = (values) => Math.min(...values)

export function measure(fn, rounds, targetRoundNs) {
  const n = calibrate(fn, targetRoundNs)
  const wall = []
  const cpu = []
  for (let i = 0; i < rounds; i++) {
    const r = round(fn, n)
    wall.push(r.wall)
    cpu.push(r.cpu)
  }
  return { cpu: median(cpu), cpuMin: fastest(cpu), wall: median(wall), wallMin: fastest(wall), n }
}
