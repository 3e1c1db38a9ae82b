#!/usr/bin/env bash
# Builds every example module into examples/wasm-modules/dist/<name>.wasm,
# ready for `redis-cli -x FUNCTION LOAD < examples/wasm-modules/dist/<name>.wasm`:
# the crates for wasm32-unknown-unknown, then `wasm-tools component new` (no
# WASI: a module may import only the slotkv:script host). Installs what it
# needs: the rustup target, and wasm-tools from crates.io into target/tools.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
TOOLS=$ROOT/target/tools
WASM_TOOLS_VERSION=1.263.0
export CARGO_TARGET_DIR=$ROOT/target/wasm-modules

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
if ! "$TOOLS/bin/wasm-tools" --version 2>/dev/null | grep -q " $WASM_TOOLS_VERSION"; then
  echo "installing wasm-tools $WASM_TOOLS_VERSION into $TOOLS"
  cargo install wasm-tools --version "$WASM_TOOLS_VERSION" --locked --no-default-features \
    --features component,validate --root "$TOOLS"
fi

cargo build --release --target wasm32-unknown-unknown --locked
mkdir -p dist
# counter and json_patch are the examples; misbehave and clock are the tests'
# modules that break the rules on purpose.
for crate in counter json_patch misbehave clock; do
  "$TOOLS/bin/wasm-tools" component new "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/$crate.wasm" \
    -o "dist/$crate.wasm"
done
ls -l dist/*.wasm
