// Package buildinfo reports the versions of levstudy, Go and GoMLX that a result was computed with.
package buildinfo
