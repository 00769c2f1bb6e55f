'use strict'
// `pennon/fastify`: `requireFlag` as a Fastify `preHandler` hook. The decision is
// `middleware.js`'s, shared with the Express middleware; this is the Fastify adapter.
const { contextOption, decide } = require('./middleware.js')

/**
 * A `preHandler` hook: when `flag` is on for the request's context it sets
 * `request.flagMode = 'enabled'`; with `shadowOk`, a flag in state `shadow` sets
 * `request.flagMode = 'shadow'`; otherwise it answers
 * `403 {"error": "FEATURE_DISABLED", flag, state, reason}`. `context(request)` gives the
 * evaluation context (default: `request.pennonContext`, else `{}`); if it throws, Fastify
 * answers with its error handler.
 */
function requireFlag(client, flag, options = {}) {
  const shadowOk = options.shadowOk ?? false
  const contextOf = contextOption(options)
  return async function pennonRequireFlag(request, reply) {
    const decision = decide(client, flag, contextOf(request), shadowOk)
    if (decision.mode !== undefined) {
      request.flagMode = decision.mode
      return
    }
    return reply.code(403).send(decision.body)
  }
}

module.exports = { requireFlag }
