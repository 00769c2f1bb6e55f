'use strict'

/**
 * An error of the client: a stable `code` (the codes the Rust SDK documents:
 * `invalid_config`, `invalid_public_key`, `init_timeout`, `closed`, `signature_invalid`,
 * `revision_older`, `unauthorized`, `forbidden`, `server_error`, `http_error`,
 * `network_error`, `timeout`, `stream_silent`, `invalid_event`, `io_error`, `internal`,
 * and core's load codes; the web build adds `not_initialized`: createClient before `init()`) and a message for people.
 */
class ClientError extends Error {
  constructor(code, message, options) {
    super(message, options)
    this.name = 'ClientError'
    this.code = code
  }
}

module.exports = { ClientError }
