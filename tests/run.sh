#!/bin/sh
# Runs pytest inside a private D-Bus session with a throw-away unlocked gnome-keyring,
# headless Qt, throw-away XDG dirs, and a hard outer time limit.
set -eu
if [ -z "${UCWA_PHONE_IN_TEST_BUS:-}" ]; then
    export UCWA_PHONE_IN_TEST_BUS=1
    # pytest-timeout cannot break every async hang; this can.
    exec timeout -k 10 "${TEST_TIMEOUT:-1500}" dbus-run-session -- sh "$0" "$@"
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export XDG_DATA_HOME="$scratch/data" XDG_CONFIG_HOME="$scratch/config" \
       XDG_CACHE_HOME="$scratch/cache" XDG_STATE_HOME="$scratch/state" \
       XDG_RUNTIME_DIR="$scratch/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
unset DISPLAY WAYLAND_DISPLAY

# --unlock with a password on stdin: without it gcr tries to prompt on a display and fails.
eval "$(printf 'throw-away-test-keyring' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL

py="${PYTHON:-.venv/bin/python}"
set +e
"$py" -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "tests/run.sh: pytest collected no tests; that is a failure" >&2
    exit 1
fi
exit "$rc"
