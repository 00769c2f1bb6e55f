// Derives the CommonJS copy of js/common.mjs for the nodejs target, so that the error
// classes are written once. The source may only use top-level `export class`,
// `export function` and `export const` (no imports, no other export forms): anything
// else fails the build rather than producing a broken module.
import { readFileSync, writeFileSync } from 'node:fs';

const [source, target] = process.argv.slice(2);
const names = [];
const body = readFileSync(source, 'utf8').replace(/^export (class|function|const) ([A-Za-z_$][\w$]*)/gm, (_, kind, name) => {
  names.push(name);
  return `${kind} ${name}`;
});
if (/^\s*(import|export)\b/m.test(body)) {
  throw new Error(`${source}: only top-level export class/function/const can be converted`);
}
writeFileSync(
  target,
  `'use strict';\n// Generated from ${source.split('/').pop()} by scripts/esm-to-cjs.mjs: do not edit.\n${body}\nmodule.exports = { ${names.join(', ')} };\n`,
);
