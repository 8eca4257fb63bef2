#!/usr/bin/env bash
# Installs Debian's `chromium` (headless browser of the UI test, tests/tests/ui_server.rs) when
# it is missing. System-wide, outside the repository; a machine that has it skips this.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
echo "installing chromium (the UI test's browser) ..." >&2
sudo_ apt-get install -y --no-install-recommends chromium >/dev/null \
    || { sudo_ apt-get update >/dev/null && sudo_ apt-get install -y --no-install-recommends chromium >/dev/null; }
chromium --version >&2
