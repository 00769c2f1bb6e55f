'use strict'
// pennon: the Node.js client of Pennon feature flags (CommonJS entry; index.mjs re-exports
// this module for `import`, so both share one implementation and one module instance).
const { Client, createClient } = require('./lib/client.js')
const { ClientError } = require('./lib/errors.js')
const { requireFlag } = require('./lib/middleware.js')

module.exports = { createClient, Client, ClientError, requireFlag }
