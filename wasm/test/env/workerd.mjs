// Makes Node import a .wasm file the way Cloudflare Workers do: as a default export that is
// a compiled WebAssembly.Module (`node --conditions=workerd --import ./env/workerd.mjs …`).
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function load(url, context, next) {
  if (!url.endsWith('.wasm')) return next(url, context);
  return {
    format: 'module',
    shortCircuit: true,
    source: 'import { readFileSync } from "node:fs";' +
      'export default new WebAssembly.Module(readFileSync(new URL(' + JSON.stringify(url) + ')));',
  };
}`),
);
