'use strict';
// Entry of the `nodejs` build for `require('pennon-wasm')`: the glue reads the .wasm
// synchronously, so the engine is ready at once. `init()` / `initSync()` exist so that
// code written for the web entry runs unchanged.
const wasm = require('./pennon_wasm.js');
const common = require('./common.cjs');

// The regex module is read from disk and instantiated synchronously the first time a
// snapshot with a `matches` condition is loaded: nothing to call in Node.
const regex = common.createRegex({
  loadSync: () => require('node:fs').readFileSync(require('node:path').join(__dirname, 'pennon_regex.wasm')),
});

/** Nothing to do: the module was instantiated on require. */
async function init() {}

/** Nothing to do: the module was instantiated on require. */
function initSync() {}

module.exports = {
  Engine: common.wrapEngine(wasm.Engine, regex, wasm.setRegexHost),
  PennonError: common.PennonError,
  SnapshotError: common.SnapshotError,
  ContextError: common.ContextError,
  ArgumentError: common.ArgumentError,
  InternalError: common.InternalError,
  ERROR_CLASSES: common.ERROR_CLASSES,
  errorCodes: common.errorCodes,
  errorClass: common.errorClass,
  toPennonError: common.toPennonError,
  coreErrorCodes: wasm.coreErrorCodes,
  coreErrorClass: wasm.coreErrorClass,
  bucket: wasm.bucket,
  bucketHash: wasm.bucketHash,
  init,
  initSync,
  initRegex: regex.initRegex,
  initRegexSync: regex.initRegexSync,
  default: init,
};
