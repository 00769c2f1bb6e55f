'use strict'
// The event surface of the web client: `on` / `off` / `once` / `emit` / `listenerCount`
// with node:events' semantics for what the client uses (listeners run synchronously in
// the order they were added; a listener added or removed during an emit does not change
// that emit). The Node client is a real EventEmitter (lib/platform/node.js).

class Emitter {
  #listeners = new Map()

  on(type, listener) {
    if (typeof listener !== 'function') throw new TypeError('the listener must be a function')
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), { listener, once: false }])
    return this
  }

  once(type, listener) {
    if (typeof listener !== 'function') throw new TypeError('the listener must be a function')
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), { listener, once: true }])
    return this
  }

  /** Removes the most recently added registration of `listener` (as node:events does). */
  off(type, listener) {
    const entries = this.#listeners.get(type) ?? []
    const index = entries.findLastIndex((entry) => entry.listener === listener)
    if (index >= 0) this.#listeners.set(type, entries.toSpliced(index, 1))
    return this
  }

  addListener(type, listener) {
    return this.on(type, listener)
  }

  removeListener(type, listener) {
    return this.off(type, listener)
  }

  removeAllListeners(type) {
    if (type === undefined) this.#listeners.clear()
    else this.#listeners.delete(type)
    return this
  }

  listenerCount(type) {
    return this.#listeners.get(type)?.length ?? 0
  }

  /** Calls every listener of `type` with `args`; whether there was one. */
  emit(type, ...args) {
    const entries = this.#listeners.get(type) ?? []
    for (const entry of entries) {
      if (entry.once) this.#listeners.set(type, (this.#listeners.get(type) ?? []).filter((e) => e !== entry))
      entry.listener.apply(this, args)
    }
    return entries.length > 0
  }
}

module.exports = { Emitter }
