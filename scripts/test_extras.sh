#!/usr/bin/env bash
# Everything the optional test groups need, so that `python -m pytest -q` skips nothing that a
# machine can run (idempotent; Debian/Ubuntu, run inside the project's virtualenv):
#   browser + dashboard   Debian's Chromium, the [dashboard] extra, Playwright's client
#   benchmarks            nginx, aria2, curl, moto
#   third-party servers   nginx and openssl (tests/integration/test_nginx_cdn.py: the CDN path),
#                         s3rver@3.7.1 from npm in .servers/ (tests/integration/test_s3rver.py),
#                         olah 0.5.4 in its own venv .servers/olah/ (tests/integration/test_olah.py)
#   engines               the [ray] and [dask] extras
#   torch                 PyTorch for torch_dataset and the README's DataLoader blocks (PyPI's
#                         wheel brings CUDA libraries: ~5 GB on disk, ~1 min from a mirror)
#   older DuckDB clients  duckdb 1.2.2 and the duckdb-cli 1.5.6 binary, in .old-duckdb/
#                         (tests/integration/test_readme.py opens catalog.duckdb with them)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ci_browser.sh
bash scripts/ci_bench.sh
apt_install() {  # Debian packages, only when missing
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}
command -v openssl >/dev/null 2>&1 || apt_install openssl  # the nginx tests' certificate
if [ ! -x .servers/node_modules/.bin/s3rver ]; then
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    npm install --prefix .servers --no-audit --no-fund --silent s3rver@3.7.1
fi
if [ ! -x .servers/olah/bin/olah-cli ]; then  # its own venv: olah pins fastapi, pydantic...
    python3 -m venv .servers/olah
    .servers/olah/bin/python -m pip install -q "olah==0.5.4"
fi
python -c "import ray, dask.distributed" 2>/dev/null || python -m pip install -q -e '.[ray,dask]'
python -c "import torch" 2>/dev/null || python -m pip install -q torch
if [ ! -x .old-duckdb/duckdb_cli/duckdb ] || [ ! -d .old-duckdb/duckdb ]; then
    python -m pip install -q --no-deps --target .old-duckdb "duckdb==1.2.2" "duckdb-cli==1.5.6"
fi
