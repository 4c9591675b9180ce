#!/usr/bin/env bash
# Starts the tslab kernel with the project root as its working directory. tslab compiles cells with
# rootDir = cwd, so lib/ must sit under the kernel's cwd: notebooks therefore import from './lib' and
# relative paths in notebooks resolve from the project root, wherever the notebook file lives.
# The kernel runs on the project's Node (>= 22; the local Node 24 when the machine's is older), whatever
# PATH Jupyter was started with.
cd "$(dirname "$0")/.." || exit 1
source scripts/node-env.sh || exit 1
exec node ./node_modules/tslab/bin/tslab "$@"
