// Package q1 answers Question 1: does training on the rows a basis marks as most informative help? A
// basis only chooses rows — Select picks k training rows by a Strategy (top, bottom, random,
// leverage-proportional sampling, class-balanced top-k) — and a classifier with a fixed input is
// trained on them alone: Fit trains and measures Jobs (a classifier, rows, a seed) and returns their
// Accuracy on the selected rows, the training rows and the test rows, cached. Run sweeps bases ×
// strategies × k × seeds; its Result summarizes each cell with a 95% interval (Summarize, ByFamily)
// and compares every strategy with random rows as an effect size with its interval (Effects). Table,
// EffectTable and AccuracyFigure show it; Write saves results.csv and results.json.
//
//	rows, err := q1.Select(scores[:nTrain], labels[:nTrain], q1.StrategyTop, 1000, 1)
//	acc, err := q1.Fit(ctx, ws, q1.Options{}, []q1.Job{{Classifier: q1.ClassifierLinear, Rows: rows}})
package q1
