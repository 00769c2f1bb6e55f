#!/usr/bin/env bash
# Packaging test of the `pennon` crate: `cargo package` the SDK with the two crates it
# depends on (pennon-core, pennon-host), then build a scratch project that depends on the
# *packaged* sources (only what would be uploaded to crates.io: a file missing from the
# package fails the build) and run every runnable Rust example of the packaged README in
# it, as a user who copies them would.
#
# usage: sdks/rust/package.sh            (CARGO_TARGET_DIR is shared with the workspace)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target_dir" == /* ]] || target_dir="$root/$target_dir"

step() { printf '\n==> Rust SDK packaging: %s\n' "$*"; }

step "cargo package pennon-core pennon-host pennon (the files crates.io would get)"
# --no-verify: the scratch project below builds the packaged sources (and runs them),
# which is the verification, once instead of twice.
cargo package -p pennon-core -p pennon-host -p pennon --locked --no-verify --allow-dirty --quiet
tmp="$(mktemp -d "${TMPDIR:-/tmp}/pennon-crate.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# The .crate files, unpacked as cargo would unpack them from a registry.
packaged="$tmp/packages"
mkdir -p "$packaged"
for crate in pennon-core pennon-host pennon; do
  file="$target_dir/package/$crate-0.1.0.crate"
  [ -f "$file" ] || { echo "cargo package left no $file" >&2; exit 1; }
  tar -xzf "$file" -C "$packaged"
  echo "$crate: $(tar -tzf "$file" | wc -l) files in $(basename "$file")"
done
grep -q '^# pennon' "$packaged/pennon-0.1.0/README.md" || { echo "the package has no README" >&2; exit 1; }

work="$tmp/scratch"
step "a scratch project using the packaged crate ($work)"
mkdir -p "$work/src" "$work/examples"
cat >"$work/Cargo.toml" <<EOF
[package]
name = "scratch"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
pennon = { path = "$packaged/pennon-0.1.0" }

# The packaged manifests name pennon-core and pennon-host by version, as crates.io would
# serve them; here they come from the packages made above.
[patch.crates-io]
pennon-core = { path = "$packaged/pennon-core-0.1.0" }
pennon-host = { path = "$packaged/pennon-host-0.1.0" }

[workspace]
EOF
echo 'fn main() {}' >"$work/src/main.rs"

# Every runnable ```rust block of the packaged README becomes an example program: lines
# hidden from the docs with `# ` are kept (rustdoc's rule), and the block runs inside a
# function returning Result, as a doc test does.
python3 - "$packaged/pennon-0.1.0/README.md" "$work/examples" <<'PY'
import pathlib, re, sys
readme, out = pathlib.Path(sys.argv[1]).read_text(), pathlib.Path(sys.argv[2])
blocks = re.findall(r"^```rust\n(.*?)^```$", readme, flags=re.S | re.M)
if len(blocks) < 3:
    sys.exit(f"expected runnable Rust examples in the README, found {len(blocks)}")
for n, block in enumerate(blocks, 1):
    lines = [line[2:] if line.startswith("# ") else ("" if line == "#" else line) for line in block.splitlines()]
    body = "\n".join("    " + line for line in lines)
    (out / f"readme_{n}.rs").write_text(
        "fn main() {\n    let run = || {\n" + body + "\n    };\n"
        "    let result: Result<(), pennon::Error> = run();\n    result.unwrap();\n}\n")
print(f"{len(blocks)} README examples")
PY

step "build and run the README examples against the packaged crate"
# The workspace's lock file pins the dependencies the packaged crate was tested with.
cp Cargo.lock "$work/Cargo.lock"
count=0
for example in "$work"/examples/readme_*.rs; do
  name="$(basename "$example" .rs)"
  CARGO_TARGET_DIR="$target_dir" cargo run --quiet --manifest-path "$work/Cargo.toml" --example "$name" >/dev/null
  count=$((count + 1))
done
echo "ok: $count README examples ran against the packaged pennon crate"
