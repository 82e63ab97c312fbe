// Package cnn is MnistConvNet, the original study's network, in GoMLX: Init (PyTorch's initialization
// from a seed), Forward (logits and the 200-d embedding after the first dense layer's ReLU, the CNN
// bases of the study), Train (groups A: cross-entropy, B: smooth L1 to one-hot, C: untrained; Adam,
// checkpoints, bit-identical resume), LoadTorch (a PyTorch state_dict .pth) and SaveWeights /
// LoadWeights (levstudy's checksummed weights files). On the pure-Go backend the convolutions run as
// matrix products over patch columns built on the host, with a hand-written backward pass checked
// against autodiff and finite differences.
//
//	w := cnn.Init(1)
//	res, err := cnn.Train(ctx, backend, ds, cnn.TrainOptions{Group: cnn.GroupA, Seed: 1, Epochs: 1})
//	out, err := cnn.Forward(ctx, backend, ds, res.Weights, cnn.ForwardOptions{})
package cnn
