'use strict'
// An incremental server-sent-events parser (the WHATWG rules the Pennon stream needs):
// chunks go in as they arrive, whole events and comments come out. Lines end with LF,
// CRLF or CR (also when a CRLF is split across two chunks); `:` starts a comment; several
// `data` lines join with `\n`; an event is delivered only at its terminating blank line,
// so an event cut mid-way by a dropped connection is never delivered.
//
// Bytes are decoded with a streaming TextDecoder, so a UTF-8 sequence split across two
// chunks is decoded whole.

class SseParser {
  #decoder = new TextDecoder('utf-8')
  #line = ''
  /** The previous chunk ended with CR: a LF starting the next one belongs to it. */
  #afterCr = false
  #event = null
  #data = null
  #lastId = null

  /** The last event ID seen (kept across events, as SSE specifies). */
  get lastId() {
    return this.#lastId
  }

  /**
   * Feeds a chunk (`Uint8Array`/`Buffer`, or an already decoded string); returns the items
   * it completed: `{type: 'event', event, id, data}` and `{type: 'comment', text}`.
   */
  feed(chunk) {
    let text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true })
    const out = []
    if (this.#afterCr) {
      this.#afterCr = false
      if (text.startsWith('\n')) text = text.slice(1)
    }
    let start = 0
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      const line = this.#line + text.slice(start, i)
      this.#line = ''
      this.#process(line, out)
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++
        } else {
          this.#afterCr = true
        }
      }
      start = i + 1
    }
    this.#line += text.slice(start)
    return out
  }

  #process(line, out) {
    if (line === '') {
      const event = this.#event
      this.#event = null
      if (this.#data !== null) {
        out.push({ type: 'event', event: event ?? 'message', id: this.#lastId, data: this.#data })
        this.#data = null
      }
      return
    }
    if (line.startsWith(':')) {
      const comment = line.slice(1)
      out.push({ type: 'comment', text: comment.startsWith(' ') ? comment.slice(1) : comment })
      return
    }
    const colon = line.indexOf(':')
    let field = line
    let value = ''
    if (colon >= 0) {
      field = line.slice(0, colon)
      value = line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
    }
    if (field === 'event') this.#event = value
    else if (field === 'data') this.#data = this.#data === null ? value : `${this.#data}\n${value}`
    else if (field === 'id' && !value.includes('\0')) this.#lastId = value
  }
}

module.exports = { SseParser }
