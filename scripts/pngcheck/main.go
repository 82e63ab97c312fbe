// Command pngcheck fails unless each PNG given is a non-blank picture (imgcheck.NotBlank). Used on
// screenshots of exported notebooks and reports.
package main

import (
	"fmt"
	"os"

	"github.com/levstudy/levstudy/internal/imgcheck"
)

func main() {
	bad := false
	for _, path := range os.Args[1:] {
		s, err := imgcheck.NotBlank(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			bad = true
			continue
		}
		fmt.Printf("%s: %dx%d, %d colours, %.0f%% not white\n", path, s.Width, s.Height, s.Colours, 100*s.NonWhite)
	}
	if bad {
		os.Exit(1)
	}
}
