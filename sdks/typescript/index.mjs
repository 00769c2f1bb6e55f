// pennon, ES module entry: the CommonJS implementation re-exported (one module instance
// whichever way it is loaded, so `instanceof` and shared state agree).
import pennon from './index.js'

export const { createClient, Client, ClientError, requireFlag, init, initSync } = pennon
export default pennon
