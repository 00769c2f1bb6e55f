#!/usr/bin/env bash
# Compiles consumer.ts against each JS package's type declarations (tsc --strict): the
# same program must type-check against pennon-node and pennon-wasm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tsc="$root/node_modules/.bin/tsc"
[ -x "$tsc" ] || { echo "typescript is not installed (run bindings/node/setup.sh)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
for package in "node:$root/bindings/node/index.d.ts" "wasm:$root/wasm/js/index.d.ts"; do
  name=${package%%:*}
  declarations=${package#*:}
  cat >"$work/tsconfig.$name.json" <<JSON
{
  "compilerOptions": {
    "strict": true, "noEmit": true, "target": "es2022", "module": "es2022",
    "moduleResolution": "bundler", "skipLibCheck": false, "types": [],
    "lib": ["es2022", "dom", "esnext.disposable"],
    "paths": { "pennon-js": ["$declarations"] }
  },
  "files": ["$here/consumer.ts"]
}
JSON
  if "$tsc" -p "$work/tsconfig.$name.json"; then
    echo "ok: consumer.ts type-checks against $name ($declarations)"
    passed=$((passed + 1))
  else
    echo "FAILED: consumer.ts does not type-check against $name"
    failed=$((failed + 1))
  fi
done
echo "typescript consumer: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
