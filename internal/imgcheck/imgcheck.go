// Package imgcheck tells whether a PNG looks like a real picture (a rendered report or notebook), not a
// blank page: used by tests and scripts/pngcheck on headless-Chromium screenshots.
package imgcheck

import (
	"fmt"
	"image/png"
	"os"
)

// Stats describes a PNG sampled on a 4-pixel grid.
type Stats struct {
	Width, Height int
	Colours       int     // distinct colours
	NonWhite      float64 // fraction of sampled pixels that are not (near) white
}

// NotBlank reads the PNG at path and returns an error unless it has at least 50 distinct colours and
// 1% of pixels that are not white (a short page leaves most of a tall screenshot white).
func NotBlank(path string) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return Stats{}, fmt.Errorf("%s: %w", path, err)
	}
	colours := map[uint32]bool{}
	nonWhite, total := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				nonWhite++
			}
			total++
		}
	}
	s := Stats{Width: b.Dx(), Height: b.Dy(), Colours: len(colours), NonWhite: float64(nonWhite) / float64(max(total, 1))}
	if s.Colours < 50 || s.NonWhite < 0.01 {
		return s, fmt.Errorf("%s looks blank: %d colours, %.1f%% of pixels not white", path, s.Colours, 100*s.NonWhite)
	}
	return s, nil
}
