// Runs the unit tests of the pure modules: esbuild compiles test/*.test.ts (with what they
// import) to .test-build/, then `node --test` runs them. Exits with node's status.
import * as esbuild from "esbuild";
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".test-build");
const tests = readdirSync(join(root, "test")).filter((name) => name.endsWith(".test.ts"));
if (tests.length === 0) throw new Error("no test/*.test.ts found");
rmSync(out, { recursive: true, force: true });
await esbuild.build({
  entryPoints: tests.map((name) => join(root, "test", name)),
  outdir: out,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  jsx: "automatic",
  jsxImportSource: "preact",
  logLevel: "warning",
});
const run = spawnSync(process.execPath, ["--test", ...tests.map((name) => join(out, name.replace(/\.ts$/, ".mjs")))], {
  stdio: "inherit",
  env: { ...process.env, TZ: process.env.TZ ?? "Europe/Berlin" },
});
process.exit(run.status ?? 1);
