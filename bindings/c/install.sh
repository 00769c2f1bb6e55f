#!/usr/bin/env bash
# Installs Pennon's C library: builds it (cargo, release) and copies
#
#   PREFIX/include/pennon.h
#   PREFIX/lib/libpennon.a
#   PREFIX/lib/libpennon.so.<version>, with the links libpennon.so.<abi> (the SONAME) and
#   libpennon.so
#   PREFIX/lib/pkgconfig/pennon.pc
#
# usage: bindings/c/install.sh [--static-only | --shared-only] [--no-build] PREFIX
#   DESTDIR=/staging bindings/c/install.sh /usr/local   (files under /staging/usr/local,
#                                                        pennon.pc still says /usr/local)
#   LIBDIR=lib64 changes the library directory below PREFIX.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

static=1 shared=1 build=1 prefix=""
for arg in "$@"; do
  case "$arg" in
    --static-only) shared=0 ;;
    --shared-only) static=0 ;;
    --no-build) build=0 ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
    *) prefix="$arg" ;;
  esac
done
if [ -z "$prefix" ]; then
  echo "usage: install.sh [--static-only | --shared-only] [--no-build] PREFIX" >&2
  exit 2
fi
case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac
libdir_name="${LIBDIR:-lib}"
libdir="$prefix/$libdir_name"
dest="${DESTDIR:-}"

if [ "$build" = 1 ]; then
  (cd "$root" && cargo build -p pennon-c --release --locked --quiet)
fi
target="${CARGO_TARGET_DIR:-$root/target}/release"
for file in libpennon.a libpennon.so; do
  [ -f "$target/$file" ] || { echo "install.sh: $target/$file is missing (build first)" >&2; exit 1; }
done

version="$(cd "$root" && cargo pkgid -p pennon-c | sed 's/.*[@#]//')"
major="${version%%.*}"
minor="${version#*.}"; minor="${minor%%.*}"
if [ "$major" = 0 ]; then abi="0.$minor"; else abi="$major"; fi # as in build.rs
# The system libraries the static library needs (TOOLCHAIN.md; checked by test.sh).
libs_private="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

install -d "$dest$prefix/include" "$dest$libdir/pkgconfig"
install -m 644 "$here/include/pennon.h" "$dest$prefix/include/pennon.h"
if [ "$static" = 1 ]; then
  install -m 644 "$target/libpennon.a" "$dest$libdir/libpennon.a"
fi
if [ "$shared" = 1 ]; then
  install -m 755 "$target/libpennon.so" "$dest$libdir/libpennon.so.$version"
  ln -sfn "libpennon.so.$version" "$dest$libdir/libpennon.so.$abi"
  ln -sfn "libpennon.so.$abi" "$dest$libdir/libpennon.so"
fi
sed -e "s|@PREFIX@|$prefix|g" -e "s|@LIBDIR@|$libdir_name|g" -e "s|@VERSION@|$version|g" \
  -e "s|@LIBS_PRIVATE@|$libs_private|g" "$here/pennon.pc.in" >"$dest$libdir/pkgconfig/pennon.pc"
chmod 644 "$dest$libdir/pkgconfig/pennon.pc"
echo "installed pennon $version into $dest$prefix ($([ "$static" = 1 ] && echo "static ")$([ "$shared" = 1 ] && echo "shared ")library, header, pennon.pc)"
