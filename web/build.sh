#!/usr/bin/env bash
# Builds the playground into web/dist/: the core and web crates for
# wasm32-unknown-unknown, their JavaScript bindings (wasm-bindgen-cli at the
# version of the wasm-bindgen crate, installed from crates.io into target/tools
# when missing), wasm-opt when a recent one is installed, the page from
# web/www/ and the Lua examples from examples/lua/.
# Serve it with slotkv's gateway: http://127.0.0.1:8080/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/web/dist
TOOLS=$ROOT/target/tools

# The CLI must match the crate exactly; read the crate's version from the lockfile.
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
WBG=$TOOLS/bin/wasm-bindgen
if [ ! -x "$WBG" ] || [ "$("$WBG" --version | awk '{print $2}')" != "$WBG_VERSION" ]; then
  echo "installing wasm-bindgen-cli $WBG_VERSION into $TOOLS"
  # Not --locked: its lockfile pins a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WBG_VERSION" --root "$TOOLS" --force
fi
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true

cargo build -p slotkv-web --target wasm32-unknown-unknown --profile wasm --locked
WASM=$ROOT/target/wasm32-unknown-unknown/wasm/slotkv_web.wasm

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
"$WBG" --target web --no-typescript --out-dir "$STAGE" "$WASM"
# wasm-opt shrinks the module by about a tenth. Old binaryen (Debian's 108)
# exports the wrong table after optimising wasm-bindgen's externref table, and
# the page fails to start, so only a recent one is used.
# (With pipefail, a missing wasm-opt must not end the script.)
WASM_OPT_VERSION=$({ wasm-opt --version 2>/dev/null || true; } | sed -n 's/.*version \([0-9]*\).*/\1/p')
if [ -n "$WASM_OPT_VERSION" ] && [ "$WASM_OPT_VERSION" -ge 116 ]; then
  wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types "$STAGE/slotkv_web_bg.wasm" -o "$STAGE/slotkv_web_bg.opt.wasm"
  mv "$STAGE/slotkv_web_bg.opt.wasm" "$STAGE/slotkv_web_bg.wasm"
else
  echo "not running wasm-opt (${WASM_OPT_VERSION:-none}; 116 or newer needed): the .wasm is a little larger"
fi
cp web/www/* "$STAGE/"
# The editor's examples are the repository's Lua examples, listed for the page.
cp examples/lua/*.lua "$STAGE/"
(cd examples/lua && printf '%s\n' *.lua) | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().split()))' \
  >"$STAGE/examples.json"
# The gateway serves these .gz twins to browsers that take gzip.
for f in "$STAGE"/*.wasm "$STAGE"/*.js "$STAGE"/*.css "$STAGE"/*.html "$STAGE"/*.lua "$STAGE"/*.json; do
  gzip -9 -k -n "$f"
done

# Replace the page whole, so a failed build never leaves half of one.
rm -rf "$OUT.new"
chmod 755 "$STAGE"
mv "$STAGE" "$OUT.new"
trap - EXIT
rm -rf "$OUT"
mv "$OUT.new" "$OUT"
RAW=$(stat -c %s "$OUT/slotkv_web_bg.wasm")
GZ=$(stat -c %s "$OUT/slotkv_web_bg.wasm.gz")
echo "playground built in web/dist/: slotkv_web_bg.wasm $RAW bytes, $GZ gzipped"
