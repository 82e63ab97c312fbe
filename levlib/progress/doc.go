// Package progress is how long computations report progress: a Report (stage, done, total) passed to
// an optional callback (nil is silent), and a Timer that turns reports into elapsed time and an ETA.
// The command draws a bar on stderr, notebooks a live line.
package progress
