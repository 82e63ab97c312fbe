// Package gomlxutil is levstudy's GoMLX plumbing: executables built and run without panics escaping
// (NewExec, ExecSafe), row chunks of a RowSource fed to a graph as reused tensors (Chunker), the Gram
// pass XᵀX over chunks (GramPass), PyTorch's Adam update as graph nodes, and a host parallel loop.
package gomlxutil
