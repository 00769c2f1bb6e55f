// pennon/fastify: `requireFlag` as a Fastify preHandler hook (lib/fastify.js). Typed
// without importing Fastify's types, so it fits any Fastify version's request and reply.
import type { Client, RequireFlagOptions } from './index.js'

/** The reply methods the hook uses (a `FastifyReply` has them). */
export interface FlagReply {
  code(statusCode: number): { send(payload?: unknown): unknown }
}
/**
 * A `preHandler` hook: sets `request.flagMode` (`'enabled'` | `'shadow'`) when the flag is on
 * for the request, else answers `403 {"error": "FEATURE_DISABLED", flag, state, reason}`.
 * The options are the Express middleware's (`shadowOk`, `context(request)`).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export declare function requireFlag<Req extends object = any>(
  client: Client,
  flag: string,
  options?: RequireFlagOptions<Req>,
): (request: object, reply: FlagReply) => Promise<unknown>

// Fastify's request type gets the properties the hook reads and sets (this subpath is
// imported only where Fastify is installed).
declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireFlag` when the request passed: `'enabled'`, or `'shadow'` with `shadowOk`. */
    flagMode?: 'enabled' | 'shadow'
    /** The default evaluation context of `requireFlag` (when no `context` option is given). */
    pennonContext?: import('./index.js').Context
  }
}
