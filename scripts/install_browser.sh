#!/usr/bin/env bash
# Install Debian's Chromium for the viewer and data-card tests (driven by the playwright
# Python package with executable_path=/usr/bin/chromium; `playwright install` is never run,
# nothing is downloaded but Debian packages). Idempotent; a fast no-op when present.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser.sh: apt-get not found; install chromium yourself" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "install_browser.sh: installing chromium"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver
