#!/usr/bin/env python3
"""Fails (exit 1) if an executed notebook shows an error — an error output, a Go panic, or a non-zero
exit status (nbconvert exits 0 when a GoNB cell panics or calls os.Exit: only "exit status N" appears in
the output) — or lacks the results it must show: on the tiny preset, each basis's rank with Σℓ = rank,
the QR artefact on RAW, the digit grid's k, a hand-made random selection's accuracy within a sane band,
tau-b within the untrained networks above chance, the findings (an HTML list, each with a number), the
figures a notebook draws (PNG outputs), and the backend line once per notebook, not in every cell.
Usage: check.py EXECUTED.ipynb ..."""
import html
import json
import os
import re
import sys


def ranks(text):
    """Every "label: rank r of c, Σℓ = s" line has Σℓ = r (to 1e-6); RAW is rank-deficient."""
    rows = re.findall(r"^(\S+): rank (\d+) of (\d+), Σℓ = ([\d.]+)", text, re.M)
    if not rows:
        return "no 'label: rank r of c, Σℓ = s' lines"
    for label, r, c, s in rows:
        if abs(float(s) - int(r)) > 1e-6:
            return f"{label}: Σℓ = {s} but rank {r}"
    raw = [r for r in rows if r[0] == "raw"]
    if not raw or int(raw[0][1]) >= int(raw[0][2]):
        return f"raw should be rank-deficient: {raw}"
    return None


def qr_artefact(text):
    qr = re.search(r"raw, method qr: Σℓ = ([\d.]+) \(rank (\d+)\), (\d+) rows with ℓ > 0.999", text)
    ex = re.search(r"raw, method exact: Σℓ = ([\d.]+) \(rank (\d+)\), (\d+) rows with ℓ > 0.999", text)
    if not qr or not ex:
        return "no QR / exact comparison on raw"
    if abs(float(qr.group(1)) - 784) > 1e-6 or int(qr.group(3)) <= int(ex.group(3)):
        return f"QR artefact not shown: qr {qr.groups()}, exact {ex.groups()}"
    return None


def grid_k(k):
    return lambda text: None if re.search(rf"^k = {k}:", text, re.M) else f"no 'k = {k}:' line from the digit-grid cell"


def q1(text):
    vals = [float(v) for v in re.findall(r"^\S+ random-\d+(?:, linear classifier)?: test ([\d.]+)", text, re.M)]
    if not vals:
        return "no hand-made random selection line (the linear classifier's test accuracy)"
    if not all(0.5 <= v <= 0.97 for v in vals):
        return f"random rows' test accuracy outside [0.5, 0.97]: {vals}"
    return None


def q2(text):
    m = re.search(r"^Q2 tau-b within C: ([\d.]+), between [-\d.]+ \(p = [-\d.e+]+; null sd ([\d.]+)\)", text, re.M)
    if not m:
        return "no Q2 tau-b within C line"
    if float(m.group(1)) < 10 * float(m.group(2)):
        return f"tau-b within C {m.group(1)} not above 10 null SDs ({m.group(2)})"
    return None


def gallery(text):
    return None if re.search(r"^k = \d+: galleries of at most \d+ digits", text, re.M) else "no consensus gallery line"


def backend_once(text):
    n = len(re.findall(r"^pool: \d+ training \+ \d+ test rows", text, re.M))
    notes = len(re.findall(r"GoMLX backend", text))
    return None if n == 1 and notes <= 1 else f"the setup line appears {n} times and the backend note {notes} times, want once each"


def images(n):
    return lambda text, count: None if count >= n else f"{count} figures (PNG outputs), want at least {n}"


def findings(text):
    m = re.search(r'<ul class="findings">(.*?)</ul>', text, re.S)
    n = sum(1 for li in re.findall(r"<li>(.*?)</li>", m.group(1), re.S) if re.search(r"\d", li)) if m else 0
    return None if n >= 3 else f"{n} findings with numbers, want ≥ 3"


EXPECT = {
    "leverage_study": [ranks, qr_artefact, grid_k(300), q1, q2, findings, backend_once],
    "q1_selection": [ranks, q1, backend_once],
    "q2_robustness": [q2, gallery, backend_once],
}

# The fewest PNG figures each notebook must show on the tiny preset with its default flags: in the
# leverage study a score curve and top and bottom digit grids for each of the 5 default bases (15),
# Question 1's accuracy figure per classifier (2), the tau-b heatmap (1); in q1_selection the accuracy
# figures; in q2_robustness the heatmap and a gallery per family.
IMAGES = {"leverage_study": 18, "q1_selection": 2, "q2_robustness": 3}

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
    text = ""
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                t = out.get("text", "")
            else:  # nb.Text's lines and the HTML tables, unescaped
                t = out.get("data", {}).get("text/html", "")
                t = html.unescape("".join(t) if isinstance(t, list) else t)
            text += ("".join(t) if isinstance(t, list) else t) + "\n"
    name = os.path.basename(path).removesuffix(".ipynb")
    pngs = sum(1 for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    for expect in EXPECT.get(name, []) + [lambda t: images(IMAGES.get(name, 0))(t, pngs)]:
        problem = expect(text)
        if problem:
            failed = True
            errors += 1
            print(f"{path}: content: {problem}", file=sys.stderr)
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
