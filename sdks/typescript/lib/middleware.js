'use strict'
// `requireFlag`: Express-style middleware that guards a route with a boolean flag (seed
// 002). It only uses Node's `http` API on `res` (statusCode, setHeader, end), so it works
// with Express, Connect and a plain `http.createServer` handler alike.

/** What the 403 body calls the flag's state, from the reason core gave. */
function stateOf(details) {
  switch (details.reason) {
    case 'DISABLED':
    case 'OUT_OF_WINDOW':
      return 'off'
    case 'KILLED':
      return 'kill'
    case 'SHADOW':
      return 'shadow'
    case 'CANARY_EXCLUDED':
      return 'canary'
    case 'ERROR':
      return 'error'
    default:
      return 'on'
  }
}

/** `context(req)` of the options (default: `req.pennonContext`, else `{}`). */
function contextOption(options) {
  return options.context ?? ((req) => req.pennonContext ?? {})
}

/**
 * The decision of every `requireFlag` adapter: `{mode: 'enabled' | 'shadow'}` when the
 * request passes, else `{body}` of the 403 answer. On when `flag` is `true` for `context`;
 * with `shadowOk`, a flag in state `shadow` whose on path would serve another variant
 * than the one served passes in shadow mode.
 */
function decide(client, flag, context, shadowOk) {
  const details = client.evaluate(flag, context)
  if (details.value === true) return { mode: 'enabled' }
  // In state `shadow` core serves the off variant and names the variant the on path
  // would have served: shadow mode when that is another variant than the one served.
  if (shadowOk && details.reason === 'SHADOW' && details.shadowVariant !== null && details.shadowVariant !== details.variant) {
    return { mode: 'shadow' }
  }
  return { body: { error: 'FEATURE_DISABLED', flag, state: stateOf(details), reason: details.reason } }
}

/**
 * `(req, res, next)` middleware: when `flag` is on for the request's context it sets
 * `req.flagMode = 'enabled'` and calls `next()`; with `shadowOk`, a flag in state `shadow`
 * whose on path would serve `true` sets `req.flagMode = 'shadow'` and calls `next()`;
 * otherwise it answers `403 {"error": "FEATURE_DISABLED", flag, state, reason}`.
 * `context(req)` gives the evaluation context (default: `req.pennonContext`, else `{}`).
 */
function requireFlag(client, flag, options = {}) {
  const shadowOk = options.shadowOk ?? false
  const contextOf = contextOption(options)
  return function pennonRequireFlag(req, res, next) {
    let context
    try {
      context = contextOf(req)
    } catch (error) {
      return next(error)
    }
    const decision = decide(client, flag, context, shadowOk)
    if (decision.mode !== undefined) {
      req.flagMode = decision.mode
      return next()
    }
    const body = JSON.stringify(decision.body)
    res.statusCode = 403
    res.setHeader('content-type', 'application/json; charset=utf-8')
    res.setHeader('content-length', Buffer.byteLength(body))
    res.end(body)
  }
}

module.exports = { requireFlag, decide, contextOption }
