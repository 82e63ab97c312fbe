// Package fileio writes files the way levstudy must: atomically (a temporary file renamed into place,
// so a reader never sees half a file and an interrupted run leaves the old one), and in levstudy's
// framed binary format (a magic line, a JSON header line, a payload) used by cache entries, weights
// files and checkpoints.
package fileio
