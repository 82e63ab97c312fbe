package mnist

// Controls of Question 2: what explains agreement between leverage rankings other than what the bases
// learned.

// Ink returns ‖x_i‖² of each raw image (pixels / 255). Leverage of a nonnegative basis tends to grow
// with it, so two bases can agree through ink alone.
func Ink(ds *Dataset) []float64 {
	ink := make([]float64, ds.N())
	for i := range ink {
		s := 0.0
		for _, p := range ds.Pixels[i*ImagePixels : (i+1)*ImagePixels] {
			v := float64(p) / 255
			s += v * v
		}
		ink[i] = s
	}
	return ink
}
