package basis

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/levstudy/levstudy/levlib/mnist"
)

// torchFile matches the original study's file names; their letters differ from ours (see README of
// shared/original-study): file A = untrained (our C), B = regression (B), C = classification (our A).
var torchFile = regexp.MustCompile(`mnist-cnn-([ABC])(\d+)-`)

// Label returns a short display name and the group (family) of a basis: raw; relu1…relu5 for ReLU
// features with F = 784 and seeds 1…5 (group "relu"); relu200-1… for other F (group "relu200"); A1…C5
// for CNNs (group
// "A", "B", "C"); orig-A1… for the original study's .pth files (group "orig-A", …, translated to our
// letters).
func Label(spec Spec) (label, group string) {
	switch spec.Kind {
	case KindCNN:
		return fmt.Sprintf("%c%d", spec.Group, spec.Seed), string(spec.Group)
	case KindTorch:
		if m := torchFile.FindStringSubmatch(filepath.Base(spec.Path)); m != nil {
			ours := map[string]string{"A": "C", "B": "B", "C": "A"}[m[1]]
			return "orig-" + ours + m[2], "orig-" + ours
		}
		return strings.TrimSuffix(filepath.Base(spec.Path), ".pth"), "torch"
	case KindReLU:
		spec = spec.Normalized()
		if spec.Features == mnist.ImagePixels {
			return fmt.Sprintf("relu%d", spec.Seed), "relu"
		}
		return fmt.Sprintf("relu%d-%d", spec.Features, spec.Seed), fmt.Sprintf("relu%d", spec.Features)
	}
	return spec.String(), string(spec.Kind)
}
