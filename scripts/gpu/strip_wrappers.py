"""Removes the tch wrapper functions that do not compile against an older libtorch.

Usage: python3 strip_wrappers.py torch_api_generated.cpp LIBTORCH_DIR
Compiles the file (syntax only), finds the wrappers with errors and deletes them, until it compiles.
"""
import re
import subprocess
import sys

path, libtorch = sys.argv[1], sys.argv[2]
for round_ in range(5):
    cmd = ["c++", "-fsyntax-only", "-w", "-std=c++17", "-D_GLIBCXX_USE_CXX11_ABI=1", "-DGLOG_USE_GLOG_EXPORT",
           "-I", f"{libtorch}/include", "-I", f"{libtorch}/include/torch/csrc/api/include", path]
    errors = subprocess.run(cmd, capture_output=True, text=True).stderr
    bad = sorted({int(n) for n in re.findall(r"torch_api_generated\.cpp:(\d+):\d+: error", errors)})
    print(f"round {round_}: {len(bad)} failing lines", flush=True)
    if not bad:
        break
    lines = open(path).read().split("\n")
    drop = set()
    for line in bad:
        start = line - 1
        while not re.match(r"^[a-z].*atg_", lines[start]):
            start -= 1
        end = line - 1
        while lines[end] != "}":
            end += 1
        drop.update(range(start, end + 1))
    open(path, "w").write("\n".join(l for k, l in enumerate(lines) if k not in drop))
