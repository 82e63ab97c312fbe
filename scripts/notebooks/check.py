#!/usr/bin/env python3
"""Fails (exit 1) if an executed notebook shows an error: an error output, a Go panic, or a non-zero
exit status. nbconvert exits 0 when a GoNB cell panics or calls os.Exit (only "exit status N" appears in
the output), so CI needs this check. Usage: check.py EXECUTED.ipynb ..."""
import json
import re
import sys

BAD = re.compile(r"panic:|exit status [1-9]|goroutine \d+ \[|\bERROR\b|cannot find package|undefined:")
failed = False
for path in sys.argv[1:]:
    nb = json.load(open(path))
    errors = 0
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        for out in cell.get("outputs", []):
            text = ""
            if out.get("output_type") == "error":
                text = out.get("ename", "") + ": " + out.get("evalue", "")
                bad = True
            else:
                t = out.get("text") or out.get("data", {}).get("text/plain") or out.get("data", {}).get("text/html") or ""
                text = "".join(t) if isinstance(t, list) else t
                bad = bool(BAD.search(text))
            if bad:
                failed = True
                errors += 1
                print(f"{path}: cell {i}: {text.strip()[:2000]}", file=sys.stderr)
    n = sum(1 for c in nb["cells"] if c["cell_type"] == "code")
    ran = sum(1 for c in nb["cells"] if c["cell_type"] == "code" and c.get("execution_count"))
    if ran != n:
        failed = True
        print(f"{path}: {ran} of {n} code cells executed", file=sys.stderr)
    elif errors:
        print(f"{path}: {errors} error outputs", file=sys.stderr)
    else:
        print(f"{path}: {n} cells executed, no errors")
sys.exit(1 if failed else 0)
