#!/bin/sh
# Removes what production node_modules never loads at run time: source maps, type declarations, docs.
# Used by the Dockerfile and by scripts/runtime-layout.ts, so the checked layout is the shipped one.
set -eu
find "${1:?usage: prune-node-modules.sh DIR}" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.md' -o -name '*.markdown' \) -delete
