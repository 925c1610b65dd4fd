#!/usr/bin/env bash
# Installs what the mixer needs on a fresh Debian machine, or says exactly what to install.
#   scripts/setup.sh          npm packages (from the lock file) and FFmpeg
#   scripts/setup.sh --test   the same, plus Chromium for the browser test and coturn for the TURN test
set -euo pipefail
cd "$(dirname "$0")/.."

want_chromium=0
[ "${1:-}" = "--test" ] && want_chromium=1

say() { printf 'setup: %s\n' "$*" >&2; }

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  say "Node.js $(node --version) is too old: install Node.js 20 or newer."
  exit 1
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
fi

missing=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
if [ "$want_chromium" = 1 ] && ! command -v chromium >/dev/null 2>&1; then missing+=(chromium); fi
# The TURN test runs Debian's coturn (turnserver) beside the mixer.
if [ "$want_chromium" = 1 ] && ! command -v turnserver >/dev/null 2>&1; then missing+=(coturn); fi
# The font for names on tiles (without it tiles are unlabelled).
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]} from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    say "installing ${missing[*]} from Debian's packages (sudo)"
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing: ${missing[*]}. Install with: sudo apt-get install ${missing[*]}"
    exit 1
  fi
fi
