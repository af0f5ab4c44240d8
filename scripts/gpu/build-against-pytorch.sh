#!/bin/bash
# Builds disco-dock with `--features cuda` against the libtorch of an installed PyTorch whose
# version differs from tch's (2.13), e.g. the GPU machine's PyTorch 2.11+cu130, so that the
# binary can be carried to that machine and use its CUDA libraries:
#   1. unpack include/ and lib/ of the matching torch wheel into $LT (pip download torch==2.11.0);
#   2. copy torch-sys 0.26 and drop the generated wrappers of ops that version lacks (15 ops
#      for 2.11: _philox_*, _upsample_lanczos2d_aa*, ...), found by compiling the wrapper file;
#   3. build with that torch-sys patched in (Cargo.lock is restored afterwards).
# Usage: LT=/path/to/libtorch bash scripts/gpu/build-against-pytorch.sh  (binary in $TARGET/release)
set -euo pipefail
cd "$(dirname "$0")/../.."
LT=${LT:?set LT to an unpacked libtorch (include/ and lib/)}
WORK=${WORK:-/tmp/disco-dock-torch-sys}
TARGET=${TARGET:-target-cuda}
src=$(ls -d ~/.cargo/registry/src/*/torch-sys-0.26.0 | head -1)
if [ ! -f "$WORK/stripped" ]; then
  rm -rf "$WORK" && cp -r "$src" "$WORK"
  python3 scripts/gpu/strip_wrappers.py "$WORK/libtch/torch_api_generated.cpp" "$LT"
  touch "$WORK/stripped"
fi
cp Cargo.lock /tmp/Cargo.lock.keep
LIBTORCH="$LT" LIBTORCH_BYPASS_VERSION_CHECK=1 CARGO_TARGET_DIR="$TARGET" \
  RUSTFLAGS="-C link-arg=-Wl,--allow-shlib-undefined" \
  cargo build --release --features cuda --bin disco-dock --config "patch.crates-io.torch-sys.path=\"$WORK\"" || status=$?
cp /tmp/Cargo.lock.keep Cargo.lock
exit ${status:-0}
