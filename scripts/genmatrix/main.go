// Command genmatrix writes a synthetic N×D float32 .npy matrix for the scale benchmark (make
// bench-scale), streamed row by row so that N·D may exceed memory.
//
// The matrix: columns 0 … D−k−2 are Gaussian N(0,1) values rounded to multiples of 2⁻¹⁰ and clipped
// to ±7.99; the last k columns (-dependent, default 6) are exact combinations x_{3m} + x_{3m+1} −
// x_{3m+2} of the first ones, so the rank is D−k exactly (the values and their sums are exact in
// float32, and the Gram matrix XᵀX is exact in float64 for N up to about 4 million); column D−k−1 is
// zero except in row N/3, which alone spans that direction (leverage 1, a "near-1" row). The values
// come from rand.New(rand.NewPCG(seed, seed)).
//
// Usage:
//
//	go run ./scripts/genmatrix -rows 2000000 -cols 256 -out /tmp/x.npy
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"

	"github.com/levstudy/levstudy/internal/fileio"
)

func main() {
	rows := flag.Int("rows", 2_000_000, "rows N")
	cols := flag.Int("cols", 256, "columns D")
	dep := flag.Int("dependent", 6, "dependent columns k (exact combinations of the first 3k columns)")
	seed := flag.Uint64("seed", 1, "PCG seed")
	out := flag.String("out", "", "output .npy file")
	flag.Parse()
	if err := run(*out, *rows, *cols, *dep, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "genmatrix:", err)
		os.Exit(1)
	}
}

func run(out string, n, d, k int, seed uint64) error {
	if out == "" {
		return fmt.Errorf("flag -out: missing")
	}
	if n < 3 || d < 4*k+2 || k < 0 {
		return fmt.Errorf("want rows ≥ 3 and cols ≥ 4·dependent + 2 (got %d, %d, %d)", n, d, k)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	free := d - k - 1 // Gaussian columns 0 … free−1; column free is the lone column
	return fileio.WriteAtomic(out, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		// The header of a C-order float32 (n, d) array: write an empty matrix's header with the real shape.
		hdr := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, d)
		pad := (64 - (10+len(hdr)+1)%64) % 64
		hdr += fmt.Sprintf("%*s\n", pad, "")
		bw.WriteString("\x93NUMPY\x01\x00")
		binary.Write(bw, binary.LittleEndian, uint16(len(hdr)))
		bw.WriteString(hdr)
		row := make([]float32, d)
		buf := make([]byte, 4*d)
		for i := 0; i < n; i++ {
			for j := 0; j < free; j++ {
				v := math.Round(rng.NormFloat64()*1024) / 1024
				row[j] = float32(max(-7.99, min(7.99, v)))
			}
			row[free] = 0
			if i == n/3 {
				row[free] = 1
			}
			for m := 0; m < k; m++ {
				row[free+1+m] = row[3*m] + row[3*m+1] - row[3*m+2]
			}
			for j, v := range row {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
			}
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
}
