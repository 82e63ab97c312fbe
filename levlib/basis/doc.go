// Package basis names and builds the feature bases whose leverage the study compares: RAW pixels (Raw),
// random ReLU features relu(XW)/√F (ReLU), the embeddings of MnistConvNet (built by the workspace,
// which trains or loads the network) and any N×D matrix from a .npy or CSV file (OpenFile,
// LeverageOfFile). A Spec is a basis by name — Parse("relu:F=200,seed=3"), String, JSON as that
// string — and Label gives its display name and family (raw, relu, relu200, A, B, C).
//
//	spec, err := basis.Parse("cnn:A1")
//	label, family := basis.Label(spec) // "A1", "A"
package basis
