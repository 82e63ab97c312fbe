package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nbJSON returns a notebook with the given code cells (and outputs for the first cell when dirty).
func nbJSON(t *testing.T, dirty bool, cells ...string) string {
	t.Helper()
	var cs []map[string]any
	for i, src := range cells {
		c := map[string]any{"cell_type": "code", "metadata": map[string]any{}, "source": src, "outputs": []any{}, "execution_count": nil}
		if dirty && i == 0 {
			c["outputs"] = []any{map[string]any{"output_type": "stream", "name": "stdout", "text": "hi\n"}}
			c["execution_count"] = 1
		}
		cs = append(cs, c)
	}
	b, err := json.Marshal(map[string]any{"cells": cs, "metadata": map[string]any{}, "nbformat": 4, "nbformat_minor": 5})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "x.ipynb")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheck runs the checks on good and bad notebooks (from the module root, where go vet resolves the
// cells' imports).
func TestCheck(t *testing.T) {
	if err := os.Chdir("../.."); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Join("out", "_nbcheck", "x")) })
	decl := "import (\n\t\"fmt\"\n)\n\nvar n = flagN()\n\nfunc flagN() int { return 3 }"
	for _, tc := range []struct {
		name  string
		dirty bool
		cells []string
		want  string // a substring of a problem; "" for a clean notebook
	}{
		{"clean", false, []string{"!*echo setup", decl, "%%\nfmt.Println(n)"}, ""},
		{"outputs", true, []string{decl, "%%\nfmt.Println(n)"}, "committed with outputs"},
		{"gofmt decl", false, []string{"var  x = 1", "%%\n_ = x"}, "not gofmt-clean"},
		{"gofmt main", false, []string{decl, "%%\nfmt.Println( n )"}, "not gofmt-clean"},
		{"vet", false, []string{decl, "%%\nfmt.Printf(\"%d\\n\", \"three\")"}, "go vet"},
		{"8 lines", false, []string{decl, "%%\n// a comment\n" + strings.Repeat("fmt.Println(n)\n\n", 8)}, ""},
		{"9 lines", false, []string{decl, "%%\n" + strings.Repeat("fmt.Println(n)\n", 9)}, "9 lines of code, at most 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems, err := check(nbJSON(t, tc.dirty, tc.cells...))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(problems, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("problems %q, want %q", got, tc.want)
			}
		})
	}
}
