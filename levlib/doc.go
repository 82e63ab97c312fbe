// Package levlib is the library behind levstudy: leverage-score sample selection on MNIST.
//
// The pipeline: load the combined MNIST set (LoadMNIST: 60,000 training then 10,000 test images,
// sha256-verified), build a feature basis (RawBasis, ReLUBasis, or BasisSpec.Build by name), compute
// its leverage scores (LeverageScores), and look at the samples they favour (TopK, BottomK,
// DigitGrid, ScoreCurve). A Workspace bundles a GoMLX backend, the data, an on-disk Cache and a
// progress callback, so that each result is computed once:
//
//	ds, err := levlib.LoadMNIST("", 0)                      // default data folder, all rows
//	sel, err := backend.New("")                              // levlib/backend: XLA if installed, else pure Go
//	ws := &levlib.Workspace{Backend: sel.Backend, Data: ds, Cache: &levlib.Cache{Dir: levlib.DefaultCacheDir()}}
//	res, err := ws.Leverage(ctx, levlib.BasisSpec{Kind: levlib.KindRaw}, levlib.LeverageOptions{})
//	fmt.Println(res.Rank)                                    // 713
//	top := levlib.TopK(res.Scores, 300)
//
// Leverage scores ℓ_i = ‖U_r(i,:)‖² are computed exactly and rank-aware by default (see
// LeverageScores for the method and its accuracy); the seed notebook's thin-QR method is kept as
// Method QR for comparison. The big N×D passes run as GoMLX graphs on the chosen backend; only D×D
// matrices are factorized on the host, with gonum.
//
// Any N×D matrix, not only MNIST bases, can be scored: LeverageScores reads a RowSource in row
// chunks, so a NumPy .npy file (OpenNPY) or a CSV file (OpenCSVMatrix) larger than memory is streamed
// from disk; LeverageScoresFile does it for an npy:PATH or csv:PATH BasisSpec, with errors that name
// the file, row and column. LeverageOptions.Ridge gives ridge leverage. NewLeverageSummary and
// WriteLeverageSummary record a result (source, rank cut-off, rows with ℓ ≈ 1, Σℓ, time, versions)
// as JSON beside its scores.
//
// The whole study is a Study: NewStudy(ws, StudyOptions{Preset: PresetQuick}) plans one pool of rows,
// the bases (RAW, ReLU features with several seeds, CNN families A, B, C with their inits) and both
// questions; its methods are the stages — Bases (build, train, embed, leverage), Q1 (select rows by
// leverage, train fixed-input classifiers, accuracy against k), Q2 (rank statistics, their null and the
// controls), Run (all of them, figures, findings and report.html). `levstudy run`, levlib/nb and the
// notebooks drive the same Study:
//
//	study, err := levlib.NewStudy(ws, levlib.StudyOptions{Preset: levlib.PresetQuick})
//	res, err := study.Run(ctx, "out/study", nil)               // report.html, results.json, …
//	fmt.Println(res.Findings[0].Text)
//
// The library returns errors and never prints; long computations take a context.Context and report
// through an optional Progress callback. Seeds are always explicit.
package levlib
