// Package xslices holds small slice helpers shared by levlib's packages (Iota, Sum).
package xslices
