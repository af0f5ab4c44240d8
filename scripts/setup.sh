#!/usr/bin/env bash
# One-time, idempotent set-up of everything disco-dock needs to build:
# RDKit and Boost from Debian's packages, libtorch 2.13 (unpacked from the torch wheel)
# into the git-ignored folder .deps/, and a shim header that rdkit-sys expects.
# Run from anywhere; every step is skipped when its result is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$root/.deps"
mkdir -p "$deps"

need_apt=()
[ -d /usr/include/rdkit/GraphMol ] || need_apt+=(librdkit-dev)
[ -f /usr/include/boost/version.hpp ] || need_apt+=(libboost-dev)
[ -d /usr/include/boost/serialization ] || need_apt+=(libboost-serialization-dev)
[ -d /usr/share/RDKit ] || need_apt+=(rdkit-data)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# rdkit-sys 0.4 includes a header that RDKit 2022.09 does not have.
shim="$deps/shim/GraphMol/FileParsers"
if [ ! -f "$shim/FileWriters.h" ]; then
  mkdir -p "$shim"
  printf '#pragma once\n#include <GraphMol/FileParsers/FileParsers.h>\n' > "$shim/FileWriters.h"
fi

lt="$deps/libtorch"
if [ ! -f "$lt/lib/libtorch_cpu.so" ] || [ ! -f "$lt/build-version" ]; then
  echo "setup: fetching libtorch 2.13.0 (torch wheel, ~530 MB download)" >&2
  wheels="$deps/wheels"
  mkdir -p "$wheels"
  python3 -m pip download -q --no-deps -d "$wheels" torch==2.13.0 nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85
  tmp="$deps/unpack"
  rm -rf "$tmp" "$lt"
  mkdir -p "$tmp" "$lt/lib"
  python3 - "$wheels" "$tmp" <<'PY'
import sys, zipfile, glob
wheels, out = sys.argv[1], sys.argv[2]
keep_lib = ("libc10.so", "libtorch.so", "libtorch_cpu.so", "libgomp", "libshm.so", "libtorch_global_deps.so",
            "libcudart.so.13", "libcupti.so.13")
for w in glob.glob(wheels + "/*.whl"):
    with zipfile.ZipFile(w) as z:
        for n in z.namelist():
            base = n.rsplit("/", 1)[-1]
            if n.startswith("torch/include/") or (n.endswith(base) and base.startswith(keep_lib) and "/lib" in n) \
               or n.startswith("torch.libs/"):
                z.extract(n, out)
PY
  mv "$tmp/torch/include" "$lt/include"
  find "$tmp" -name '*.so*' -exec mv {} "$lt/lib/" \;
  echo "2.13.0" > "$lt/build-version"
  rm -rf "$tmp"
  [ "${DISCO_DOCK_KEEP_WHEELS:-0}" = 1 ] || rm -rf "$wheels"
fi
echo "setup: ok (libtorch in $lt)" >&2
