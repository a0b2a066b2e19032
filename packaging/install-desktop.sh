#!/bin/sh
# Installs (or with --uninstall removes) UCWA Phone's menu entry, icons and AppStream metainfo for
# the current user, and makes it the handler of tel:, callto: and sip: links. Safe to run again.
#
#   packaging/install-desktop.sh [--uninstall]
#
# The entry starts, in this order of preference:
#   EXEC=/abs/path/to/program      that program (e.g. a wrapper script);
#   PREFIX=/opt/ucwa-phone         the bundle installed there (PREFIX/ucwa-phone, from `make package`);
#   otherwise                      this checkout's .venv/bin/ucwa-phone (`make run` creates it).
# Files go under $XDG_DATA_HOME (default ~/.local/share); the link defaults are written by
# `xdg-mime default` to $XDG_CONFIG_HOME/mimeapps.list (default ~/.config), which is also where
# xdg-open looks on a desktop-less X server.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
data="${XDG_DATA_HOME:-$HOME/.local/share}"
config="${XDG_CONFIG_HOME:-$HOME/.config}"
desktop_id=ucwa-phone.desktop
metainfo_name=io.github.ucwaphone.UcwaPhone.metainfo.xml
schemes="tel callto sip"
sizes="16 24 32 48 64 128 256 512"

apps="$data/applications"
icons="$data/icons/hicolor"

refresh_menu() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$apps" || true
    fi
}

uninstall() {
    rm -f "$apps/$desktop_id" "$data/metainfo/$metainfo_name" "$icons/scalable/apps/ucwa-phone.svg"
    for s in $sizes; do
        rm -f "$icons/${s}x$s/apps/ucwa-phone.png"
    done
    # Forget the link defaults that still name us (xdg-mime has no "unset"); keep everyone else's.
    list="$config/mimeapps.list"
    if [ -f "$list" ]; then
        tmp="$list.ucwa-phone.$$"
        grep -v -E "^x-scheme-handler/(tel|callto|sip)=$desktop_id;?$" "$list" >"$tmp" || true
        mv "$tmp" "$list"
    fi
    [ -d "$apps" ] && refresh_menu
    echo "install-desktop: removed UCWA Phone from $data"
}

if [ "${1:-}" = --uninstall ]; then
    uninstall
    exit 0
elif [ $# -gt 0 ]; then
    echo "usage: $0 [--uninstall]   (EXEC=/abs/program or PREFIX=/bundle/dir pick what it starts)" >&2
    exit 2
fi

if [ -n "${EXEC:-}" ]; then
    program="$EXEC"
elif [ -n "${PREFIX:-}" ]; then
    program="$PREFIX/ucwa-phone"
else
    program="$root/.venv/bin/ucwa-phone"
fi
case "$program" in
    /*) ;;
    *) echo "install-desktop: '$program' is not an absolute path" >&2; exit 2 ;;
esac
case "$program" in
    # xdg-open's generic launcher splits Exec= on blanks and ignores quoting.
    *[[:space:]\"\'\\\`\$%]*)
        echo "install-desktop: '$program' has blanks or quoting characters; link handlers cannot" \
             "start it. Pass EXEC= a path without them." >&2
        exit 2 ;;
esac
if [ ! -x "$program" ]; then
    echo "install-desktop: '$program' is not an executable; run 'make run' first, or pass" \
         "EXEC=/abs/program or PREFIX=/dir/of/the/bundle" >&2
    exit 1
fi

mkdir -p "$apps" "$data/metainfo" "$icons/scalable/apps"
# Exec and TryExec name the program by absolute path: ~/.local/bin or a venv is rarely on the
# PATH of the desktop session that runs link handlers.
tmp="$apps/.$desktop_id.$$"
sed -e "s|^Exec=ucwa-phone |Exec=$program |" -e "s|^TryExec=ucwa-phone\$|TryExec=$program|" \
    "$here/$desktop_id" >"$tmp"
chmod 644 "$tmp"
mv "$tmp" "$apps/$desktop_id"

install -m 644 "$here/$metainfo_name" "$data/metainfo/$metainfo_name"
install -m 644 "$root/resources/icons/ucwa-phone.svg" "$icons/scalable/apps/ucwa-phone.svg"
for s in $sizes; do
    mkdir -p "$icons/${s}x$s/apps"
    install -m 644 "$here/icons/ucwa-phone-$s.png" "$icons/${s}x$s/apps/ucwa-phone.png"
done
refresh_menu

if command -v xdg-mime >/dev/null 2>&1; then
    for scheme in $schemes; do
        xdg-mime default "$desktop_id" "x-scheme-handler/$scheme"
    done
    echo "install-desktop: $desktop_id starts $program and opens tel:, callto: and sip: links"
else
    echo "install-desktop: installed $desktop_id (starts $program); xdg-mime not found (Debian:" \
         "xdg-utils), so it is not yet the default for tel:, callto: and sip: links" >&2
fi
