#!/usr/bin/env bash
# The Python package's CI step (python/ci.sh), run from .ci/run after
# `cargo test --workspace` while target/debug still exists: a fresh virtual
# environment under target/, the build and test requirements from PyPI, the
# extension built by maturin in the dev profile into the workspace's target
# directory (so the dependencies compiled by `cargo test` are reused), then
# pytest. The tests use small data; debug is fast enough.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
venv="$CARGO_TARGET_DIR/python-ci-venv"
python="${PYTHON:-python3}"

echo "== python: fresh virtual environment ($venv)"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r python/requirements-ci.txt

echo "== python: build the extension (maturin develop, dev profile)"
(
  cd python
  VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" "$venv/bin/maturin" develop --quiet
)

echo "== python: pytest"
# The command line's files are tested against the binary `cargo test` built.
if [ -x "$CARGO_TARGET_DIR/debug/mixtures" ]; then
  export MIXTURES_CLI="$CARGO_TARGET_DIR/debug/mixtures"
fi
cd python
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests
