#!/bin/sh
# Starts a built bundle the way a user would, on a private virtual X display, and checks it:
# the window appears titled "… — UCWA Phone (demo)", its demo sign-in succeeds, SIGTERM closes it
# with exit status 0, and the console twin answers --version.
#
#   packaging/smoke-bundle.sh [dist/ucwa-phone/ucwa-phone]
#
# Needs Xvfb and xdotool (packaging/system-deps.sh test installs them).
set -eu

program="${1:-dist/ucwa-phone/ucwa-phone}"
wait_s="${SMOKE_TIMEOUT:-30}"
title_suffix=" — UCWA Phone (demo)"

for tool in Xvfb xdotool; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "smoke-bundle: $tool not found (packaging/system-deps.sh test installs it)" >&2
        exit 1
    }
done
[ -x "$program" ] || { echo "smoke-bundle: no bundle at $program; run 'make package'" >&2; exit 1; }
program=$(cd "$(dirname "$program")" && pwd)/$(basename "$program")

scratch=$(mktemp -d)
xvfb_pid=""
app_pid=""
cleanup() {
    # `if`, not `&&`: under set -e a failed kill as the last command would end the cleanup early.
    if [ -n "$app_pid" ]; then kill -9 "$app_pid" 2>/dev/null || true; fi
    if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT
fail() {
    echo "smoke-bundle: $*" >&2
    echo "--- the bundle's output ---" >&2
    cat "$scratch/app.log" >&2 2>/dev/null || true
    exit 1
}

# A display number Xvfb picks itself (-displayfd), so parallel runs never clash.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$scratch/display" >"$scratch/xvfb.log" 2>&1 &
xvfb_pid=$!
i=0
until [ -s "$scratch/display" ]; do
    i=$((i + 1))
    [ "$i" -le 150 ] || { cat "$scratch/xvfb.log" >&2; echo "smoke-bundle: Xvfb did not start" >&2; exit 1; }
    sleep 0.1
done
display=":$(head -n 1 "$scratch/display")"

# A user with nothing set up: no account (so demo mode), no running copy, no desktop session.
home="$scratch/home"
mkdir -p "$home/run"
chmod 700 "$home/run"
env -i PATH="/usr/bin:/bin" HOME="$home" LANG="${LANG:-C.UTF-8}" DISPLAY="$display" \
    QT_QPA_PLATFORM=xcb XDG_RUNTIME_DIR="$home/run" \
    "$program" >"$scratch/app.log" 2>&1 &
app_pid=$!

started=$(date +%s)
wid=""
while [ -z "$wid" ]; do
    kill -0 "$app_pid" 2>/dev/null || fail "the bundle exited before showing its window"
    [ $(($(date +%s) - started)) -lt "$wait_s" ] || fail "no window titled '…$title_suffix' in $wait_s s"
    wid=$(DISPLAY="$display" xdotool search --onlyvisible --name "UCWA Phone \\(demo\\)" 2>/dev/null \
        | head -n 1 || true)
    [ -n "$wid" ] || sleep 0.2
done
shown=$(($(date +%s) - started))
title=$(DISPLAY="$display" xdotool getwindowname "$wid")
case "$title" in
    *"$title_suffix") ;;
    *) fail "unexpected window title '$title'" ;;
esac
# The embedded demo server signs in: proves the bundle carries the simulator and its web stack.
until case "$title" in "Signed in"*) true ;; *) false ;; esac; do
    kill -0 "$app_pid" 2>/dev/null || fail "the bundle exited while signing in (title '$title')"
    [ $(($(date +%s) - started)) -lt "$wait_s" ] || fail "demo sign-in not done in $wait_s s (title '$title')"
    sleep 0.2
    title=$(DISPLAY="$display" xdotool getwindowname "$wid" 2>/dev/null || true)
done
echo "smoke-bundle: window after ${shown} s, title '$title'"

kill -TERM "$app_pid"
i=0
while kill -0 "$app_pid" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -le 150 ] || fail "still running 15 s after SIGTERM"
    sleep 0.1
done
status=0
wait "$app_pid" || status=$?
app_pid=""
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
if grep -q -e Traceback -e "no icons/" "$scratch/app.log"; then
    fail "the bundle complained"
fi

cli="$(dirname "$program")/ucwa-phone-cli"
if [ -x "$cli" ]; then
    version=$(env -i PATH="/usr/bin:/bin" HOME="$home" "$cli" --version) || fail "ucwa-phone-cli --version failed"
    echo "smoke-bundle: console twin says '$version'"
fi
echo "smoke-bundle: ok (exit 0 after SIGTERM)"
