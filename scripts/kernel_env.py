#!/usr/bin/env python3
"""Sets environment variables in the installed GoNB kernel spec (kernel.json "env"), so that every cell
the kernel compiles gets them: `make gonb` sets GOEXPERIMENT=simd, the build flag that turns on GoMLX's
SIMD matrix products, and GOFLAGS=-ldflags=-w, which halves the link time of every cell (no DWARF).

Usage: scripts/kernel_env.py NAME=VALUE ...   ($JUPYTER_DATA_DIR or ~/.local/share/jupyter)"""
import json
import os
import sys

data = os.environ.get("JUPYTER_DATA_DIR") or os.path.expanduser("~/.local/share/jupyter")
path = os.path.join(data, "kernels", "gonb", "kernel.json")
try:
    spec = json.load(open(path))
except OSError as e:
    sys.exit(f"kernel_env: no GoNB kernel spec at {path} ({e.strerror}); run `make gonb`")
env = spec.get("env") or {}
for arg in sys.argv[1:]:
    name, sep, value = arg.partition("=")
    if not sep or not name:
        sys.exit(f"kernel_env: want NAME=VALUE, got {arg!r}")
    env[name] = value
spec["env"] = env
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(spec, f, indent=1)
os.replace(tmp, path)
print(f"kernel_env: {path}: env {env}")
