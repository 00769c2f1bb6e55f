// Calls the fetch handler of ./worker.mjs once (`?user=user-42`) and prints the body: the
// README's Worker example, run with `node --conditions=workerd --import
// wasm/test/env/workerd.mjs` (a .wasm import is a compiled WebAssembly.Module).
const { default: worker } = await import(new URL('./worker.mjs', `file://${process.cwd()}/`).href)
const response = await worker.fetch(new Request('https://flags.example/?user=user-42'))
console.log(await response.text())
