#!/bin/sh
# Install what the materialize benchmark compares against (idempotent; Debian/Ubuntu).
# tests/integration/test_benchmarks.py skips the nginx part when nginx is absent.
set -eu
need=""
command -v nginx >/dev/null 2>&1 || need="$need nginx"
command -v aria2c >/dev/null 2>&1 || need="$need aria2"
command -v curl >/dev/null 2>&1 || need="$need curl"
if [ -n "$need" ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need
fi
python -c "import moto.server, boto3" 2>/dev/null || python -m pip install -q "moto[s3]" flask flask-cors boto3
