package q2

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/levstudy/levstudy/internal/fileio"
)

// Write writes dir/pairs.csv (columns a,b,statistic,k,value: one row per pair and statistic; k is
// empty except for the top-k statistics overlap and jaccard) and dir/summary.json (the whole result,
// controls included), replaced together or not at all (fileio.WriteAtomicGroup).
func Write(dir string, r *Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("q2 summary: %w", err)
	}
	pairs := func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		bw.WriteString("a,b,statistic,k,value\n")
		f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
		for _, p := range r.Pairs {
			for _, s := range []struct {
				name string
				v    float64
			}{{"kendall_tau_b", p.KendallTauB}, {"swap_distance", p.SwapDistance}, {"spearman", p.Spearman}, {"weighted_tau", p.WeightedTau},
				{"partial_tau_ink", p.PartialTauInk}, {"binned_tau_ink", p.BinnedTauInk}} {
				fmt.Fprintf(bw, "%s,%s,%s,,%s\n", p.A, p.B, s.name, f(s.v))
			}
			for _, o := range p.Overlap {
				fmt.Fprintf(bw, "%s,%s,overlap,%d,%s\n", p.A, p.B, o.K, f(o.Fraction))
				fmt.Fprintf(bw, "%s,%s,jaccard,%d,%s\n", p.A, p.B, o.K, f(o.Jaccard))
			}
		}
		return bw.Flush()
	}
	return fileio.WriteAtomicGroup(fileio.AtomicFile{Path: filepath.Join(dir, "pairs.csv"), Write: pairs},
		fileio.AtomicFile{Path: filepath.Join(dir, "summary.json"), Write: func(w io.Writer) error { _, err := w.Write(b); return err }})
}
