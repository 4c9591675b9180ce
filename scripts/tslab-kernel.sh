#!/bin/sh
# Starts the tslab kernel with the project root as its working directory. tslab compiles cells with
# rootDir = cwd, so lib/ must sit under the kernel's cwd: notebooks therefore import from './lib' and
# relative paths in notebooks resolve from the project root, wherever the notebook file lives.
cd "$(dirname "$0")/.." || exit 1
exec ./node_modules/.bin/tslab "$@"
