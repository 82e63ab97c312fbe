// Command pngcheck fails unless each PNG given is a non-blank picture: at least 50 distinct colours and
// 1% of pixels that are not white (a short page leaves most of a tall screenshot white). Used on screenshots of exported notebooks and reports.
package main

import (
	"fmt"
	"image/png"
	"os"
)

func main() {
	bad := false
	for _, path := range os.Args[1:] {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			bad = true
			continue
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			bad = true
			continue
		}
		colors := map[uint32]bool{}
		nonWhite, total := 0, 0
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y += 4 {
			for x := b.Min.X; x < b.Max.X; x += 4 {
				r, g, bl, _ := img.At(x, y).RGBA()
				colors[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
				if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
					nonWhite++
				}
				total++
			}
		}
		if len(colors) < 50 || nonWhite < total/100 {
			fmt.Fprintf(os.Stderr, "%s looks blank: %d colours, %d of %d pixels not white\n", path, len(colors), nonWhite, total)
			bad = true
			continue
		}
		fmt.Printf("%s: %dx%d, %d colours, %.0f%% not white\n", path, b.Dx(), b.Dy(), len(colors), 100*float64(nonWhite)/float64(total))
	}
	if bad {
		os.Exit(1)
	}
}
