#!/usr/bin/env bash
# Debian packages FaceLink needs beyond Python: a C compiler (the wearable
# firmware's protocol code is compiled by the tests), the AVR toolchain and the
# simavr emulator (the tests build the real firmware and run it emulated), and
# the X11 libraries Qt needs to open a real window. Installs only what is
# missing, and only as root.
set -euo pipefail
command -v dpkg-query >/dev/null 2>&1 || exit 0
wanted=(gcc libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libegl1 libfontconfig1 libdbus-1-3
        gcc-avr avr-libc arduino-core-avr arduino-builder simavr libsimavr-dev)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "note: missing Debian packages (the desktop app and the firmware tests use them): ${missing[*]}" >&2
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || echo "warning: could not install ${missing[*]}" >&2
