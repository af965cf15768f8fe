#!/usr/bin/env bash
# Lets the black-box evaluation scripts of ../shared/eval (which call
# `BIN detect TRAIN -o MODEL ...` and `BIN score MODEL DATA -o SCORES`) run
# DAGMM: `detect` becomes `mixtures deep fit` and `score` `mixtures deep score`.
#
#   MIXTURES_BIN=target/release/mixtures DEEP_ARGS="--epochs 200" \
#     python ../shared/eval/adbench_cli.py benches/eval/deep_as_mixtures.sh ../shared/data/adbench
#
# MIXTURES_BIN: a mixtures binary built with `--features deep`; DEEP_ARGS:
# more `deep fit` flags. Flags the scripts pass that `deep fit` has too
# (--label-column, --seed, --quiet) are passed on; others are refused there.
set -euo pipefail
bin="${MIXTURES_BIN:-target/release/mixtures}"
cmd="$1"; shift
case "$cmd" in
  detect|fit) exec "$bin" deep fit "$@" ${DEEP_ARGS:-} ;;
  score) exec "$bin" deep score "$@" ;;
  *) echo "deep_as_mixtures.sh: unknown command $cmd" >&2; exit 2 ;;
esac
