#!/usr/bin/env bash
# Installs what the C binding's tests need (Debian packages): gcc, pkg-config, valgrind
# and cJSON (the conformance runner's JSON parser). Idempotent: installs only what is
# missing, and runs `apt-get update` only when something is.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n==> %s\n' "$*"; }

step "C binding: Debian packages (gcc, pkg-config, valgrind, libcjson-dev)"
missing=()
for package in gcc libc6-dev pkg-config valgrind libcjson-dev; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "all present"
fi
