// A browser-like global environment for running examples/browser.mjs in Node
// (`node --conditions=browser --import ./env/browser.mjs browser.mjs`): fetch() that
// serves file: URLs (with the wasm MIME type, so init() can stream-compile), and a
// document whose body dataset is printed as JSON when the process exits.
import { readFile } from 'node:fs/promises';

const networkFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.protocol !== 'file:') return networkFetch(input, init);
  const type = url.pathname.endsWith('.wasm') ? 'application/wasm' : 'application/json';
  globalThis.fetched.push(url.pathname.split('/').slice(-2).join('/'));
  return new Response(await readFile(url), { headers: { 'content-type': type } });
};
globalThis.fetched = [];
globalThis.document = { body: { dataset: {} } };
process.on('exit', () => {
  console.log(JSON.stringify({ dataset: globalThis.document.body.dataset, fetched: globalThis.fetched }));
});
