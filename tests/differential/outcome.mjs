// What the JS differential runners write for one request: the result object, or — for a
// request whose arguments every binding must refuse — the error object it threw,
// `{ error: { code, message, path } }`, after checking that it was thrown as the class its
// code maps to. Shared by pennon-node's and pennon-wasm's runners.

/** Runs `call` (one evaluation) and returns what to write for it. */
export function outcome(pennon, call) {
  try {
    return call();
  } catch (error) {
    if (!(error instanceof pennon.PennonError)) throw error;
    const expected = pennon.errorClass(error.code);
    if (expected === undefined || !(error instanceof expected)) {
      throw new Error(`error code ${error.code} was thrown as ${error.name}, not ${expected?.name}`);
    }
    return { error: { code: error.code, message: error.message, path: error.path } };
  }
}
