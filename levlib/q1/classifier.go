package q1

import (
	"fmt"
	"slices"
)

// Classifier names the model Question 1 trains on the selected rows.
type Classifier string

// The classifiers of Question 1. All but ClassifierProbe take a fixed input whatever the basis: the
// basis only chooses the rows.
const (
	// ClassifierCNN is MnistConvNet trained from scratch on the raw images of the selected rows
	// (cross-entropy, Adam, a fixed budget of steps; the default, as in the original study). Its seed
	// draws the initial weights and the order of the batches.
	ClassifierCNN Classifier = "cnn"
	// ClassifierLinear is multinomial logistic regression on the raw pixels (FitLinear): deterministic
	// given its rows.
	ClassifierLinear Classifier = "linear"
	// ClassifierRidge is ridge least squares to one-hot targets on the raw pixels (FitRidge):
	// deterministic given its rows.
	ClassifierRidge Classifier = "ridge"
	// ClassifierProbe is logistic regression on the basis's own features, standardized: it measures the
	// features as much as the selection (a CNN trained on every label scores well on any rows).
	ClassifierProbe Classifier = "probe"
)

// classifiers lists the classifiers in a fixed order.
var classifiers = []Classifier{ClassifierCNN, ClassifierLinear, ClassifierRidge, ClassifierProbe}

// Classifiers returns the classifiers in a fixed order (a copy: the caller may change it).
func Classifiers() []Classifier {
	return slices.Clone(classifiers)
}

// ParseClassifier parses a classifier name.
func ParseClassifier(s string) (Classifier, error) {
	if c := Classifier(s); slices.Contains(classifiers, c) {
		return c, nil
	}
	return "", fmt.Errorf("unknown classifier %q (want cnn, linear, ridge or probe)", s)
}

// Seeded reports whether the classifier uses its seed (its training is random given its rows).
func (c Classifier) Seeded() bool { return c == ClassifierCNN }
