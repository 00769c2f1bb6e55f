'use strict'
// pennon: the Node.js client of Pennon feature flags (CommonJS entry of the `node`
// condition; index.mjs re-exports this module for `import`, so both share one
// implementation and one module instance). Other runtimes get dist/web.mjs (web.mjs).
const { Client, createClient } = require('./lib/client.js')
const { ClientError } = require('./lib/errors.js')
const { requireFlag } = require('./lib/middleware.js')

/** Nothing to instantiate in Node (the addon is loaded); the web build's `init` loads the wasm. */
async function init() {}

/** Nothing to instantiate in Node; the web build's `initSync` instantiates the wasm. */
function initSync() {}

module.exports = { createClient, Client, ClientError, requireFlag, init, initSync }
