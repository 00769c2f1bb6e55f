// Develops the dashboard against a running server: rebuilds on every change (like
// `build.mjs --watch`), serves .dev-dist/ on http://127.0.0.1:5173 and forwards /api, /sdk,
// /ofrep and the health routes to the server (PENNON_URL, default http://127.0.0.1:7070),
// so the page and the API share one origin as they do when `pennon serve` embeds it.
//   PENNON_URL=http://127.0.0.1:7070 npm run dev
import { spawn } from "node:child_process";
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, request } from "node:http";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, ".dev-dist");
const upstream = new URL(process.env.PENNON_URL ?? "http://127.0.0.1:7070");
const port = Number(process.env.PORT ?? 5173);
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };

const builder = spawn(process.execPath, [join(root, "scripts/build.mjs"), "--watch"], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    builder.kill();
    process.exit(0);
  });
}

createServer((req, res) => {
  const path = new URL(req.url ?? "/", "http://x").pathname;
  if (/^\/(api|sdk|ofrep)\/|^\/(healthz|readyz|openapi\.json)$/.test(path)) {
    const forward = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", (error) => {
      res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "bad_gateway", message: `${upstream.origin}: ${error.message}` } }));
    });
    req.pipe(forward);
    return;
  }
  const file = normalize(join(dist, path === "/" ? "index.html" : path));
  if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end("not found");
    return;
  }
  res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
  createReadStream(file).pipe(res);
}).listen(port, "127.0.0.1", () => console.log(`dashboard on http://127.0.0.1:${port}/ (API: ${upstream.origin})`));
