// A local server for the outcome tests: it serves one snapshot (`GET /sdk/v1/snapshot`,
// no stream) and captures every `POST /sdk/v1/metrics` (headers and parsed body). `refuse`
// (a number, or a function of the attempt) answers that many first batches, or those it
// picks, with 503, so that a test can prove a refused batch is sent again, not lost.
// `lose(attempt)` → '503' | 'drop' | falsy: the batch is stored, then answered 503 or its
// connection closed unanswered (a lost response). `stored`: the batches stored, each batch
// id once, as `pennon serve` keeps them (a repeated id is answered `accepted: false`).
import http from 'node:http'

export async function startMetricsServer(snapshot, { refuse = 0, lose = () => null, hang = false } = {}) {
  const body = JSON.stringify(snapshot)
  const posts = []
  const refused = []
  const stored = new Map()
  let attempts = 0
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/sdk/v1/snapshot') {
      res.writeHead(200, { 'content-type': 'application/json', etag: '"1"' })
      return res.end(body)
    }
    if (req.method === 'GET' && req.url === '/sdk/v1/stream') {
      res.writeHead(404)
      return res.end()
    }
    if (req.method === 'POST' && req.url === '/sdk/v1/metrics') {
      const chunks = []
      req.on('data', (chunk) => chunks.push(chunk))
      req.on('end', () => {
        if (hang) return // never answers
        const text = Buffer.concat(chunks).toString('utf8')
        const post = { authorization: req.headers.authorization, contentType: req.headers['content-type'], text, body: JSON.parse(text) }
        attempts += 1
        const no = typeof refuse === 'function' ? refuse(attempts) : attempts <= refuse
        if (no) {
          refused.push(post)
          res.writeHead(503, { 'content-type': 'application/json' })
          return res.end('{"error":"unavailable"}')
        }
        const fresh = !stored.has(post.body.batch)
        if (fresh) stored.set(post.body.batch, post.body)
        const lost = lose(attempts)
        if (lost === 'drop') return req.socket.destroy()
        if (lost) {
          res.writeHead(503, { 'content-type': 'application/json' })
          return res.end('{"error":"unavailable"}')
        }
        posts.push(post)
        res.writeHead(202, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ accepted: fresh }))
      })
      return undefined
    }
    res.writeHead(404)
    return res.end()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    posts,
    refused,
    stored,
    /** Stops the server (again: nothing). */
    close() {
      if (!server.listening) return
      server.closeAllConnections()
      server.close()
    },
  }
}

/** Sums the batches' `flags.FLAG.VARIANT.FIELD` (a latency field: the sum of its counts). */
export function total(bodies, flag, variant, field) {
  let sum = 0
  for (const body of bodies) {
    const value = body.flags?.[flag]?.[variant]?.[field]
    if (Array.isArray(value)) sum += value.reduce((n, [, count]) => n + count, 0)
    else sum += value ?? 0
  }
  return sum
}
