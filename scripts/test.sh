#!/usr/bin/env bash
# Runs the test suite; installs what the build needs on first use (scripts/setup.sh).
# Long tests are #[ignore]d: run them with `bash scripts/test.sh -- --ignored`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export RUST_BACKTRACE=1
cargo test --release "$@"
