// A Cloudflare Worker (wrangler bundles it; the .wasm import is a WebAssembly.Module).
import { initSync, initRegexSync, Engine } from 'pennon-wasm';
import wasm from 'pennon-wasm/web/pennon_wasm_bg.wasm';
import regexWasm from 'pennon-wasm/web/pennon_regex.wasm';
import snapshot from './snapshot.json' with { type: 'json' };

initSync({ module: wasm });
initRegexSync({ module: regexWasm }); // the snapshot has a `matches` condition
const engine = new Engine(snapshot);

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const user = { targetingKey: url.searchParams.get('user') ?? 'anonymous', country: request.cf?.country ?? 'XX' };
    return Response.json(engine.evaluateAll(user));
  },
};
