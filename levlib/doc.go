// Package levlib is the study of leverage-score sample selection on MNIST: which training images a
// feature basis marks as most informative, whether training on them helps (Question 1), and whether
// that choice survives a change of basis or of random initialization (Question 2). A Study — the plan
// of a preset (NewStudy, Plan), its bases and both questions — drives `levstudy run`, the notebooks
// (through levlib/nb) and the report; Run writes report.html and results.json.
//
//	study, err := levlib.NewStudy(ws, levlib.StudyOptions{Preset: levlib.PresetQuick})
//	raw, err := study.Basis(ctx, "raw")          // the basis, its leverage (cached)
//	q, err := study.Q1(ctx)                       // every fit of the plan, intervals, effect sizes
//	res, err := study.Run(ctx, "out/study", nil)  // everything, figures, findings, report.html
//
// The pipeline, one package per stage, each importing only those below it:
//
//	mnist      the data: load and verify MNIST, a Dataset, ink
//	matrixio   Matrix, RowSource, .npy and CSV readers and writers
//	leverage   the engine: exact rank-aware leverage of any RowSource (Scores), ridge, QR for comparison
//	cnn        MnistConvNet: init, forward (embeddings), train, .pth import, weights files
//	basis      bases by name (Spec): RAW, ReLU features, network embeddings, files
//	workspace  each basis, network and leverage computed once: the cache
//	q1         Question 1: Select, Fit, Run; intervals and effect sizes
//	q2         Question 2: ComparePair, Run; null, within/between test, matched and other controls
//	plot       figures (digit grids, curves, heatmaps) as PNG/SVG
//	rankstat   rank statistics, top-k, ties (stands alone); stats: intervals and permutation tests
//	progress   progress reports; nb: notebook display glue; backend: which GoMLX backend
//
// The library returns errors and never prints; long computations take a context.Context and report
// through an optional progress callback. Seeds are always explicit.
package levlib
