// pennon's web build (dist/web.mjs): the client for browsers, Cloudflare Workers (workerd),
// Deno and bundlers, over pennon-wasm. The same client as in Node (client.d.ts) with a
// small event emitter instead of node:events, plus pennon-wasm's instantiation functions.
import type { ClientEvents, ClientMethods, ClientOptions } from './client.js'

export * from './client.js'
export { default as init, initSync, initRegex, initRegexSync } from 'pennon-wasm/web'

type Listener<K extends keyof ClientEvents> = (...args: ClientEvents[K]) => void

/** The web client: `on` / `once` / `off` as node:events has them, without node:events. */
export declare class Client implements ClientMethods {
  /** Throws a ClientError `not_initialized` before `init()` / `initSync()`. */
  constructor(options: ClientOptions)
  on<K extends keyof ClientEvents>(type: K, listener: Listener<K>): this
  once<K extends keyof ClientEvents>(type: K, listener: Listener<K>): this
  off<K extends keyof ClientEvents>(type: K, listener: Listener<K>): this
  addListener<K extends keyof ClientEvents>(type: K, listener: Listener<K>): this
  removeListener<K extends keyof ClientEvents>(type: K, listener: Listener<K>): this
  removeAllListeners(type?: keyof ClientEvents): this
  listenerCount(type: keyof ClientEvents): number
  emit<K extends keyof ClientEvents>(type: K, ...args: ClientEvents[K]): boolean
}
export interface Client extends ClientMethods {}

/** Creates a client (after `init()`) and starts refreshing; does not wait (see `client.ready()`). */
export declare function createClient(options: ClientOptions): Client

declare const pennon: {
  createClient: typeof createClient
  Client: typeof Client
  ClientError: typeof import('./client.js').ClientError
  init: typeof import('pennon-wasm/web').default
  initSync: typeof import('pennon-wasm/web').initSync
  initRegex: typeof import('pennon-wasm/web').initRegex
  initRegexSync: typeof import('pennon-wasm/web').initRegexSync
}
export default pennon
