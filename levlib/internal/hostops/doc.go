// Package hostops holds float32 kernels that more than one package runs on the host in place of graph
// operations on GoMLX's Go backend, each one pass over memory (on all cores, or on the caller's
// goroutine for callers that already run one task per core), with AVX-512 or AVX2 vectors where the
// build has GOEXPERIMENT=simd and the CPU allows: for now Adam's update, shared by the CNN's host
// passes (levlib/cnn) and the linear classifier's host step (levlib/q1).
package hostops
