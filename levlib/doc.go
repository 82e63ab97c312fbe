// Package levlib is the library behind levstudy: leverage-score sample selection on MNIST.
//
// The pipeline: load the combined MNIST set (mnist.Load: 60,000 training then 10,000 test images,
// sha256-verified), build a feature basis (basis.Raw, basis.ReLU, or basis.Spec.Build by name), compute
// its leverage scores (leverage.Scores), and look at the samples they favour (TopK, BottomK,
// DigitGrid, ScoreCurve). A Workspace bundles a GoMLX backend, the data, an on-disk Cache and a
// progress callback, so that each result is computed once:
//
//	ds, err := mnist.Load("", 0)                      // default data folder, all rows
//	sel, err := backend.New("")                              // levlib/backend: XLA if installed, else pure Go
//	ws := &levlib.Workspace{Backend: sel.Backend, Data: ds, Cache: &levlib.Cache{Dir: levlib.DefaultCacheDir()}}
//	res, err := ws.Leverage(ctx, basis.Spec{Kind: levlib.KindRaw}, leverage.Options{})
//	fmt.Println(res.Rank)                                    // 713
//	top := levlib.TopK(res.Scores, 300)
//
// Leverage scores ℓ_i = ‖U_r(i,:)‖² are computed exactly and rank-aware by default (see
// leverage.Scores for the method and its accuracy); the seed notebook's thin-QR method is kept as
// Method QR for comparison. The big N×D passes run as GoMLX graphs on the chosen backend; only D×D
// matrices are factorized on the host, with gonum.
//
// Any N×D matrix, not only MNIST bases, can be scored: leverage.Scores reads a RowSource in row
// chunks, so a NumPy .npy file (OpenNPY) or a CSV file (matrixio.OpenCSV) larger than memory is streamed
// from disk; basis.LeverageOfFile does it for an npy:PATH or csv:PATH basis.Spec, with errors that name
// the file, row and column. leverage.Options.Ridge gives ridge leverage. leverage.NewSummary and
// leverage.WriteSummary record a result (source, rank cut-off, rows with ℓ ≈ 1, Σℓ, time, versions)
// as JSON beside its scores.
//
// The whole study is a Study: NewStudy(ws, StudyOptions{Preset: PresetQuick}) plans one pool of rows,
// the bases (RAW, ReLU features with several seeds, CNN families A, B, C with their inits) and both
// questions; its methods are the stages — Bases (build, train, embed, leverage), q1.Run (select rows by
// leverage, train fixed-input classifiers, accuracy against k), q2.Run (rank statistics, their null and the
// controls), Run (all of them, figures, findings and report.html). `levstudy run`, levlib/nb and the
// notebooks drive the same Study:
//
//	study, err := levlib.NewStudy(ws, levlib.StudyOptions{Preset: levlib.PresetQuick})
//	res, err := study.Run(ctx, "out/study", nil)               // report.html, results.json, …
//	fmt.Println(res.Findings[0].Text)
//
// The library returns errors and never prints; long computations take a context.Context and report
// through an optional progress.Report callback. Seeds are always explicit.
package levlib
