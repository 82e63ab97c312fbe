// Package matrixio holds levstudy's matrices and the files they come from and go to: Matrix (dense,
// row-major float64), RowSource (a matrix read in row chunks, so that N may exceed memory), NumPy .npy
// files (OpenNPY streams one from disk; WriteNPY, WriteNPYVector), CSV matrices with a header row
// (OpenCSV), and the scores CSV files levstudy writes and reads (index,split,label,leverage or
// index,leverage: WriteLeverageCSV, EncodeScoresCSV, ReadLeverageCSV). Readers check sizes before
// allocating and name the file, row and column of what is wrong (NonFiniteError, ParseError).
//
//	f, err := matrixio.OpenNPY("features.npy") // a RowSource; nothing is read yet
//	defer f.Close()
//	n, d := f.Dims()
package matrixio
