// pennon: the Node.js client of Pennon feature flags (the `node` condition; web.d.ts is
// the web build's). Hand-written declarations of the JavaScript in index.js / lib/
// (checked by `tsc -p sdks/typescript`, which also compiles test/types.ts against them).
import { EventEmitter } from 'node:events'
import type { ClientError, ClientEvents, ClientMethods, ClientOptions, Context } from './client.js'

export * from './client.js'

/** The Node client: an EventEmitter of `ClientEvents`. */
export declare class Client extends EventEmitter<ClientEvents> {
  constructor(options: ClientOptions)
}
export interface Client extends ClientMethods {}

export declare function createClient(options: ClientOptions): Client

/** Nothing to instantiate in Node; the web build's `init` loads its wasm (isomorphic code calls it). */
export declare function init(input?: unknown): Promise<void>
/** Nothing to instantiate in Node; the web build's `initSync` instantiates its wasm. */
export declare function initSync(input?: unknown): void

/** The minimal request/response shapes `requireFlag` needs (Express and node:http both fit). */
export interface FlagRequest {
  flagMode?: 'enabled' | 'shadow'
  pennonContext?: Context
}
export interface FlagResponse {
  statusCode: number
  setHeader(name: string, value: string | number): unknown
  end(body: string): unknown
}
export interface RequireFlagOptions<Req> {
  /** Let a flag in state `shadow` through with `req.flagMode = 'shadow'`. */
  shadowOk?: boolean
  /** The evaluation context of a request (default: `req.pennonContext`, else `{}`). */
  context?: (req: Req) => Context
}
export declare function requireFlag<Req extends object = FlagRequest>(
  client: Client,
  flag: string,
  options?: RequireFlagOptions<Req>,
): (req: Req, res: FlagResponse, next: (error?: unknown) => void) => void

declare const pennon: {
  createClient: typeof createClient
  Client: typeof Client
  ClientError: typeof ClientError
  requireFlag: typeof requireFlag
  init: typeof init
  initSync: typeof initSync
}
export default pennon
