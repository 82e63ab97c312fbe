// Command tiegaps measures what TieWithin ties in leverage scores saved as a float64 .npy vector,
// for tolerances from 0 to 1e-7: the numbers behind DefaultTieTolerance. Given two files, it also
// prints their weighted tau and Kendall tau-b before and after TieWithin(DefaultTieTolerance).
//
//	GOEXPERIMENT=simd go build -o /tmp/levstudy ./cmd/levstudy
//	/tmp/levstudy leverage -backend go -basis raw -cache "" -out /tmp/raw.npy
//	/tmp/levstudy leverage -backend go -basis relu -cache "" -out /tmp/relu.npy
//	go run ./levlib/rankstat/testdata/tiegaps /tmp/raw.npy /tmp/relu.npy
//
// It reads only the simple .npy layout levstudy writes (version 1, little-endian float64, 1-D) and
// checks that header.
package main

import (
	"encoding/binary"
	"fmt"
	"log"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/levstudy/levstudy/levlib/rankstat"
)

func main() {
	var all [][]float64
	for _, f := range os.Args[1:] {
		b, err := os.ReadFile(f)
		if err != nil {
			log.Fatal(err)
		}
		if len(b) < 10 || string(b[:6]) != "\x93NUMPY" || b[6] != 1 {
			log.Fatalf("%s: not a version-1 .npy file", f)
		}
		hl := int(binary.LittleEndian.Uint16(b[8:10]))
		if len(b) < 10+hl || !strings.Contains(string(b[10:10+hl]), "'descr': '<f8'") || strings.Contains(string(b[10:10+hl]), "'fortran_order': True") {
			log.Fatalf("%s: want a little-endian float64 vector", f)
		}
		d := b[10+hl:]
		v := make([]float64, len(d)/8)
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:]))
		}
		unsorted := slices.Clone(v)
		slices.Sort(v)
		n := len(v)
		fmt.Printf("%s n=%d min %.3g median %.3g max %.17g\n", f, n, v[0], v[n/2], v[n-1])
		fmt.Printf(" top 25: ")
		for _, x := range v[n-25:] {
			fmt.Printf("%.17g ", x)
		}
		fmt.Println()
		gaps := make([]float64, n-1)
		for i := 1; i < n; i++ {
			gaps[i-1] = v[i] - v[i-1]
		}
		g := slices.Clone(gaps)
		slices.Sort(g)
		fmt.Printf(" gap median %.3g mean %.3g\n", g[len(g)/2], (v[n-1]-v[0])/float64(n-1))
		for _, tol := range []float64{0, 1e-15, 1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7} {
			tied, info, err := rankstat.TieWithin(v, tol)
			if err != nil {
				log.Fatal(err)
			}
			hi := 0 // rows in groups above 0.99
			for i := range v {
				if tied[i] > 0.99 && (i > 0 && tied[i-1] == tied[i] || i+1 < n && tied[i+1] == tied[i]) {
					hi++
				}
			}
			fmt.Printf(" tol %.0e: %d rows in %d groups, largest %d, widest span %.3g; rows tied above 0.99: %d\n",
				tol, info.Rows, info.Groups, info.Largest, info.MaxSpan, hi)
		}
		all = append(all, unsorted)
	}
	if len(all) == 2 {
		x, y := all[0], all[1]
		wt, _ := rankstat.WeightedTau(x, y)
		tx, _, _ := rankstat.TieWithin(x, rankstat.DefaultTieTolerance)
		ty, _, _ := rankstat.TieWithin(y, rankstat.DefaultTieTolerance)
		wtt, _ := rankstat.WeightedTau(tx, ty)
		k, _ := rankstat.KendallTauB(x, y)
		kt, _ := rankstat.KendallTauB(tx, ty)
		fmt.Printf("weighted tau %.6f, after TieWithin(DefaultTieTolerance) %.6f; tau-b %.8f, after %.8f\n", wt, wtt, k.TauB, kt.TauB)
	}
}
