#!/bin/sh
# Installs the Debian packages that `make run` (run) or `make test` (test) needs.
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -eu
kind="${1:-run}"

# Qt offscreen + the xcb platform plugin (real windows).
qt="libglib2.0-0 libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libxkbcommon0
libbrotli1 fonts-dejavu-core libx11-xcb1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0
libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0
libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1"
# A private Secret Service for the keyring tests, a virtual display for the window tests (and the
# bundle smoke test of `make package`), xdg-open/xdg-mime for the desktop-link test, and the
# .desktop and AppStream validators.
testonly="dbus-daemon gnome-keyring xvfb xauth xdotool xdg-utils desktop-file-utils appstream"

pkgs="$qt"
[ "$kind" = test ] && pkgs="$pkgs $testonly"
python3 -c 'import ensurepip, venv' 2>/dev/null || pkgs="python3-venv $pkgs"

command -v dpkg-query >/dev/null 2>&1 || { echo "system-deps: not a Debian system; install the Qt runtime libraries yourself" >&2; exit 0; }

missing=""
for p in $pkgs; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

cmd="apt-get update && apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: these Debian packages are missing. Run as root, then retry:" >&2
    echo "  $cmd" >&2
    exit 1
fi
echo "system-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
