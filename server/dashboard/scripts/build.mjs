// Builds the dashboard into dist/: one JavaScript and one CSS bundle with content-hashed
// names under dist/assets/, and dist/index.html that loads them (no inline script, so the
// server's Content-Security-Policy can forbid them). The output depends only on the
// sources and the locked dependencies, so CI can rebuild and diff the committed dist/.
//   node scripts/build.mjs            build once
//   node scripts/build.mjs --watch    rebuild on every change, unminified, into .dev-dist/
//                                     (so the committed dist/ stays the release build)
import * as esbuild from "esbuild";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const watch = process.argv.includes("--watch");
const dist = join(root, watch ? ".dev-dist" : "dist");

/** The page that loads the bundles: `assets` maps ".js" / ".css" to their file names. */
export function indexHtml(assets) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>Pennon</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/${assets[".css"]}">
<script type="module" src="assets/${assets[".js"]}"></script>
</head>
<body>
<div id="app"><noscript>The Pennon dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
}

const writeIndex = {
  name: "index-html",
  setup(build) {
    build.onEnd((result) => {
      if (result.errors.length > 0) return;
      const assets = {};
      for (const file of Object.keys(result.metafile.outputs)) {
        const name = basename(file);
        for (const ext of [".js", ".css"]) if (name.endsWith(ext)) assets[ext] = name;
      }
      if (!assets[".js"] || !assets[".css"]) throw new Error(`build produced ${JSON.stringify(assets)}`);
      writeFileSync(join(dist, "index.html"), indexHtml(assets));
      console.log(`dist/index.html -> assets/${assets[".js"]}, assets/${assets[".css"]}`);
    });
  },
};

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });

const options = {
  entryPoints: { app: join(root, "src/main.tsx") },
  outdir: join(dist, "assets"),
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  bundle: true,
  minify: !watch,
  format: "esm",
  target: ["es2022", "chrome110", "firefox110", "safari16"],
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "none",
  metafile: true,
  sourcemap: watch ? "inline" : false,
  logLevel: "warning",
  plugins: [writeIndex],
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
  console.log("watching src/ for changes (Ctrl-C stops)");
} else {
  await esbuild.build(options);
}
