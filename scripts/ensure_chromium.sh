#!/usr/bin/env bash
# Ensure Debian's Chromium (and a Korean font for readable screenshots) for the browser test, idempotently:
# quiet and instant when both are there; otherwise apt-get installs them as root, or through sudo.
# It never fails `make test` itself: without Chromium the browser test fails and says why.
#   STUDIO_CHROMIUM=/path/to/chromium   use that binary instead (nothing is installed)
set -uo pipefail

have_chromium() {
  [ -n "${STUDIO_CHROMIUM:-}" ] && [ -x "$STUDIO_CHROMIUM" ] && return 0
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -x /usr/bin/chromium ]
}
have_korean_font() {
  command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=ko family 2>/dev/null | head -1)" ]
}

packages=()
have_chromium || packages+=(chromium)
have_korean_font || packages+=(fonts-noto-cjk)
[ ${#packages[@]} -eq 0 ] && exit 0
packages+=(fonts-noto-color-emoji)  # the UI's ✅/⚠️ in screenshots; only alongside the others, never alone

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "warning: cannot install ${packages[*]} for the browser test (not root, no sudo);" \
       "install them, or set STUDIO_CHROMIUM" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: no apt-get to install ${packages[*]} for the browser test; set STUDIO_CHROMIUM" >&2
  exit 0
fi

echo "Installing ${packages[*]} for the browser test (apt-get) ..."
install() {
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" >/dev/null
}
# A fresh machine may have no package lists yet: update once, only when the first try fails.
if ! install 2>/dev/null; then
  "${as_root[@]}" apt-get update -qq >/dev/null && install \
    || echo "warning: apt-get could not install ${packages[*]}" >&2
fi
exit 0
