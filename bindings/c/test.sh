#!/usr/bin/env bash
# Every test of the C binding: build, generated-file freshness (header, status enum),
# C programs compiled with warnings as errors, the conformance runner and the error-path
# test (plain and under valgrind), the differential mode against the Rust reference, the
# packaging test (install.sh + pkg-config, static and shared) and a smoke run of the
# benchmark harness. Run from anywhere; idempotent; uses only temporary directories and
# bindings/c/target/ (git-ignored).
#
# usage: bindings/c/test.sh          (PENNON_SKIP_SETUP=1 skips setup.sh)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> C binding: %s\n' "$*"; }

if [ "${PENNON_SKIP_SETUP:-0}" != 1 ]; then
  "$here/setup.sh"
fi

out="$here/target"
mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/pennon-c-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT

lib="${CARGO_TARGET_DIR:-$root/target}/release"
# The system libraries a program linking libpennon.a needs (pennon.pc's Libs.private).
static_libs=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)
cflags=(-std=c11 -O2 -g -Wall -Wextra -Werror -Wpedantic -I "$here/include")
valgrind=(valgrind --error-exitcode=1 --suppressions="$here/tests/valgrind.supp" --leak-check=full --show-leak-kinds=all
  --errors-for-leak-kinds=all)

step "build libpennon (release: static and shared)"
cargo build -p pennon-c --release --locked
ls -l "$lib/libpennon.a" "$lib/libpennon.so"
soname="$(readelf -d "$lib/libpennon.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
echo "SONAME: ${soname:?libpennon.so has no SONAME}"

step "clippy (warnings denied)"
cargo clippy -p pennon-c --all-targets --locked -- -D warnings

step "Rust tests: header and status enum fresh, status mapping, unit tests"
cargo test -p pennon-c --locked

step "header compiles as C11 and C++ (every declaration, no warnings)"
printf '#include <pennon.h>\nint main(void) { return PENNON_OK; }\n' >"$work/header.c"
gcc "${cflags[@]}" -c "$work/header.c" -o "$work/header.o"
if command -v g++ >/dev/null; then
  cp "$work/header.c" "$work/header.cpp"
  g++ -std=c++17 -Wall -Wextra -Werror -Wpedantic -I "$here/include" -c "$work/header.cpp" -o "$work/header-cpp.o"
fi

step "compile the C programs (gcc ${cflags[*]})"
gcc "${cflags[@]}" "$here/tests/conformance_runner.c" "$lib/libpennon.a" -lcjson "${static_libs[@]}" \
  -o "$out/conformance_runner"
gcc "${cflags[@]}" "$here/tests/error_paths.c" "$lib/libpennon.a" "${static_libs[@]}" -o "$out/error_paths"
gcc "${cflags[@]}" "$root/benches/c/bench.c" "$lib/libpennon.a" "${static_libs[@]}" -o "$out/bench"
echo "built $out/conformance_runner, $out/error_paths, $out/bench"

step "conformance runner"
"$out/conformance_runner" tests/conformance

step "conformance runner under valgrind (zero errors, zero leaks of any kind)"
"${valgrind[@]}" "$out/conformance_runner" tests/conformance

step "error paths"
"$out/error_paths"

step "argument contract (tests/conformance/arguments.json), plain and under valgrind"
"$out/conformance_runner" --arguments tests/conformance/arguments.json
"${valgrind[@]}" "$out/conformance_runner" --arguments tests/conformance/arguments.json >/dev/null

step "error paths under valgrind"
"${valgrind[@]}" "$out/error_paths"

step "differential mode: byte-identical to the Rust reference"
mkdir -p "$work/differential"
requests="$work/differential/requests.jsonl"
if [ -f tests/differential/generate.py ]; then
  python3 tests/differential/generate.py "$work/differential" --count 3000
else
  # Without the shared generator: every example flag (and a missing one) for the example
  # users plus edge-case numbers, every type, at several times.
  python3 - "$requests" <<'PY'
import json, sys
flags = list(json.load(open("examples/flags.json"))["flags"]) + ["no-such-flag"]
contexts = [user["context"] for user in json.load(open("examples/contexts.json"))]
contexts += [{"targetingKey": 9007199254740993}, {"targetingKey": 0.30000000000000004, "plan": "enterprise"},
             {"targetingKey": "Jürgen", "age": 1.0, "score": -0.0, "tags": ["a", {"b": [None, True]}]}, {}]
defaults = {"any": None, "boolean": False, "string": "dflt", "number": 1.5, "object": {"d": 1}}
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for flag in flags:
        for context in contexts:
            for kind, default in defaults.items():
                for now in (1790000000000, 1795338000000, 1795348800000, 1795777200000):
                    request = {"snapshot": "examples/flags.json", "flag": flag, "context": context,
                               "type": kind, "default": default, "now": now}
                    out.write(json.dumps(request, ensure_ascii=False) + "\n")
PY
  echo "wrote $(wc -l <"$requests") requests over examples/flags.json"
fi
cargo run --quiet --release --locked -p pennon-host --example differential -- "$requests" \
  "$work/differential/rust.jsonl"
"$out/conformance_runner" --differential "$requests" "$work/differential/c.jsonl"
if cmp "$work/differential/rust.jsonl" "$work/differential/c.jsonl"; then
  echo "differential: $(wc -l <"$work/differential/c.jsonl") C results byte-identical to the Rust reference"
else
  echo "differential: the C results differ from the Rust reference" >&2
  exit 1
fi

step "README shows examples/quickstart.c verbatim"
awk '/<!-- quickstart.c/ {found = 1; next} found && /^```c$/ {inside = 1; next} inside && /^```$/ {exit}
  inside {print}' "$here/README.md" >"$work/readme-quickstart.c"
diff -u "$here/examples/quickstart.c" "$work/readme-quickstart.c" ||
  { echo "bindings/c/README.md: the quickstart block differs from examples/quickstart.c" >&2; exit 1; }
echo "README quickstart block is up to date"

step "packaging: install.sh + pkg-config, shared and static"
expected_output() {
  cat <<'EOF'
loaded revision 1842
bad update rejected: unsupported_schema_version (unsupported_schema_version at /schemaVersion: this engine reads schemaVersion 1, not 2)
still serving revision 1842
checkout.new-flow -> {"errorCode":null,"errorMessage":null,"flagMetadata":{
"reason":"CANARY_EXCLUDED","revision":1842,"ruleId":null,"shadowVariant":null,"stage":2,"value":false,"variant":"off"}
new checkout: no, retries: 5
EOF
}
check_quickstart() { # BINARY: runs it and checks every expected fragment of its output
  local output
  output="$("$@" examples/flags.json)"
  echo "$output" | sed 's/^/    /' | cut -c1-150
  while IFS= read -r fragment; do
    grep -qF -- "$fragment" <<<"$output" || { echo "quickstart output lacks: $fragment" >&2; exit 1; }
  done < <(expected_output)
}
shared_prefix="$work/prefix-shared"
static_prefix="$work/prefix-static"
"$here/install.sh" --no-build "$shared_prefix"
"$here/install.sh" --no-build --static-only "$static_prefix"
test -f "$shared_prefix/include/pennon.h" && test -f "$shared_prefix/lib/libpennon.a"
test -L "$shared_prefix/lib/libpennon.so" && test -e "$shared_prefix/lib/$soname"
PKG_CONFIG_PATH="$shared_prefix/lib/pkgconfig" pkg-config --exact-version="$(cd "$root" && cargo pkgid -p pennon-c | sed 's/.*[@#]//')" pennon

# Shared: -lpennon resolves to libpennon.so; the program records the SONAME.
shared_flags="$(PKG_CONFIG_PATH="$shared_prefix/lib/pkgconfig" pkg-config --cflags --libs pennon)"
echo "shared: gcc quickstart.c $shared_flags"
# shellcheck disable=SC2086 # pkg-config output is a list of flags
gcc -std=c11 -Wall -Wextra -Werror "$here/examples/quickstart.c" $shared_flags -o "$work/quickstart-shared"
readelf -d "$work/quickstart-shared" | grep -q "Shared library: \[$soname\]" ||
  { echo "quickstart-shared does not link $soname" >&2; exit 1; }
check_quickstart env LD_LIBRARY_PATH="$shared_prefix/lib" "$work/quickstart-shared"
env LD_LIBRARY_PATH="$shared_prefix/lib" "${valgrind[@]}" "$work/quickstart-shared" examples/flags.json >/dev/null
echo "shared quickstart: output as expected; valgrind clean"

# Static: a prefix with only libpennon.a; --static adds Libs.private.
static_flags="$(PKG_CONFIG_PATH="$static_prefix/lib/pkgconfig" pkg-config --static --cflags --libs pennon)"
echo "static: gcc quickstart.c $static_flags"
# shellcheck disable=SC2086
gcc -std=c11 -Wall -Wextra -Werror "$here/examples/quickstart.c" $static_flags -o "$work/quickstart-static"
if readelf -d "$work/quickstart-static" | grep -q "libpennon"; then
  echo "quickstart-static depends on a shared libpennon" >&2
  exit 1
fi
check_quickstart "$work/quickstart-static"
echo "static quickstart: output as expected"

step "benchmark harness smoke run (sanity checks only; figures: benches/c/README.md)"
"$out/bench" --quick benches/fixtures/bindings.json >/dev/null
echo "bench: every benchmark takes its intended path"

printf '\n==> C binding: all tests passed\n'
