#!/usr/bin/env bash
# What tests/integration/test_dashboard_browser.py needs on a fresh Debian machine: Debian's Chromium
# and the Python packages of the dashboard extra plus Playwright's client (no browser
# download: the test launches /usr/bin/chromium). Idempotent; skips what is present.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        chromium chromium-driver
fi

if ! python -c "import streamlit, altair, playwright" 2>/dev/null; then
    python -m pip install -q -e ".[dashboard,test]"
fi

/usr/bin/chromium --version 2>/dev/null
