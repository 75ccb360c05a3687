#!/bin/sh
# Install headless Chromium from Debian's packages for the HTML report's browser tests
# (tests/report/). The tests drive it over the DevTools protocol on a pipe
# (--remote-debugging-pipe), so no driver and no browser download at test time.
#
# Idempotent and quick when chromium is already on PATH. Needs root for apt-get; without root
# it says so and exits 0: the browser tests then skip with the reason.
set -eu

say() { printf 'install-browser: %s\n' "$*"; }

if command -v chromium >/dev/null 2>&1; then
    say "chromium already installed: $(command -v chromium)"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    say "needs root (apt-get install chromium); the browser tests will skip"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# A stale package index is the usual reason apt-get cannot find chromium on a fresh runner.
apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || {
    apt-get update -qq
    apt-get install -y --no-install-recommends chromium
}
say "installed $(chromium --version 2>/dev/null || echo chromium)"
