// <script type="module" src="./browser.mjs"></script>; an import map or a bundler maps
// 'pennon-wasm' to the package's web build (node_modules/pennon-wasm/dist/web/index.js).
import init, { Engine } from 'pennon-wasm';

await init(); // fetches pennon_wasm_bg.wasm from next to the package's JS
const response = await fetch(new URL('./snapshot.json', import.meta.url));
// Engine.create loads the snapshot with loadAsync, which first fetches pennon_regex.wasm
// (also next to the package's JS) because this snapshot has a `matches` condition.
const engine = await Engine.create(await response.json());
const flags = engine.evaluateAll({ targetingKey: 'user-1', country: 'DE', email: 'ann@example.com' });
document.body.dataset.newCheckout = String(flags['new-checkout'].value);
document.body.dataset.banner = flags.banner.value;
document.body.dataset.staffTools = String(flags['staff-tools'].value);
