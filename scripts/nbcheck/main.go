// Command nbcheck checks notebooks as committed source: every code cell without outputs or execution
// counts, every Go cell gofmt-clean, every %% cell at most 8 lines of code, and each notebook's cells
// together vet-clean.
//
// Usage:
//
//	go run ./scripts/nbcheck notebooks/*.ipynb
//
// GoNB cells mix Go with special lines: a cell starting with %% is the body of main (the text after the
// %% line), lines starting with ! or % are kernel commands. nbcheck drops the special lines, checks
// gofmt on each cell (declaration cells as a file, %% cells as a function body), then assembles the
// notebook as one package — the declaration cells, and each %% cell as a function — under
// out/_nbcheck/<notebook>/ inside the module, and runs go vet on it. It exits 1 on any problem, naming
// the notebook and cell.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

type notebook struct {
	Cells []struct {
		CellType       string            `json:"cell_type"`
		Source         any               `json:"source"`
		Outputs        []json.RawMessage `json:"outputs"`
		ExecutionCount *int              `json:"execution_count"`
	} `json:"cells"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: nbcheck NOTEBOOK.ipynb ...")
		os.Exit(2)
	}
	bad := false
	for _, path := range os.Args[1:] {
		problems, err := check(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			bad = true
			continue
		}
		for _, p := range problems {
			fmt.Fprintf(os.Stderr, "%s: %s\n", path, p)
		}
		if len(problems) > 0 {
			bad = true
		} else {
			fmt.Printf("%s: no outputs, gofmt-clean, vet-clean\n", path)
		}
	}
	if bad {
		os.Exit(1)
	}
}

func source(s any) string {
	switch v := s.(type) {
	case string:
		return v
	case []any:
		var b strings.Builder
		for _, l := range v {
			b.WriteString(fmt.Sprint(l))
		}
		return b.String()
	}
	return ""
}

// check returns the problems of one notebook.
func check(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var nb notebook
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, fmt.Errorf("not a notebook: %w", err)
	}
	var problems []string
	var decls []string
	var mains []string
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		if len(c.Outputs) > 0 || c.ExecutionCount != nil {
			problems = append(problems, fmt.Sprintf("cell %d: committed with outputs or an execution count (clear them before committing)", i))
		}
		src := source(c.Source)
		lines := strings.Split(src, "\n")
		isMain := len(lines) > 0 && strings.HasPrefix(strings.TrimSpace(lines[0]), "%%")
		var code []string
		for k, l := range lines {
			t := strings.TrimSpace(l)
			if (k == 0 && isMain) || strings.HasPrefix(t, "!") || (strings.HasPrefix(t, "%") && !isMain) {
				continue
			}
			code = append(code, l)
		}
		body := strings.TrimRight(strings.Join(code, "\n"), "\n")
		if strings.TrimSpace(body) == "" || onlyComments(body) {
			continue
		}
		if isMain {
			if n := codeLines(body); n > maxCellLines {
				problems = append(problems, fmt.Sprintf("cell %d has %d lines of code, at most %d: a cell calls the library's verbs; a loop that grows belongs in levlib", i, n, maxCellLines))
			}
			wrapped := "package main\n\nfunc _() {\n" + indent(body) + "\n}\n"
			if got, err := format.Source([]byte(wrapped)); err != nil {
				problems = append(problems, fmt.Sprintf("cell %d: %v", i, err))
			} else if string(got) != wrapped {
				problems = append(problems, fmt.Sprintf("cell %d is not gofmt-clean; gofmt gives:\n%s", i, unwrap(string(got))))
			}
			mains = append(mains, fmt.Sprintf("func cell%d() {\n%s\n}\n", i, indent(body)))
			continue
		}
		file := "package main\n\n" + body + "\n"
		if got, err := format.Source([]byte(file)); err != nil {
			problems = append(problems, fmt.Sprintf("cell %d: %v", i, err))
		} else if string(got) != file {
			problems = append(problems, fmt.Sprintf("cell %d is not gofmt-clean; gofmt gives:\n%s", i, strings.TrimPrefix(string(got), "package main\n\n")))
		}
		decls = append(decls, body)
	}
	if len(problems) > 0 {
		return problems, nil
	}
	return vet(path, decls, mains)
}

// maxCellLines is the most lines of code a %% cell may have (blank and comment-only lines not counted).
const maxCellLines = 8

// codeLines counts the lines of s that are neither blank nor only a comment.
func codeLines(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "//") {
			n++
		}
	}
	return n
}

func onlyComments(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "//") {
			return false
		}
	}
	return true
}

func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "\t" + l
		}
	}
	return strings.Join(lines, "\n")
}

func unwrap(s string) string {
	s = strings.TrimPrefix(s, "package main\n\nfunc _() {\n")
	s = strings.TrimSuffix(s, "}\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "\t")
	}
	return strings.Join(lines, "\n")
}

// vet assembles the notebook's cells as one package inside the module and runs go vet on it. Imports
// declared in several cells are merged (GoNB merges them the same way).
func vet(path string, decls, mains []string) ([]string, error) {
	imports := map[string]bool{}
	var rest []string
	for _, d := range decls {
		other, imps := splitImports(d)
		for _, i := range imps {
			imports[i] = true
		}
		rest = append(rest, other)
	}
	var b bytes.Buffer
	b.WriteString("// Code assembled by scripts/nbcheck from " + path + "; DO NOT EDIT.\n\npackage main\n\nimport (\n")
	for i := range imports {
		b.WriteString("\t" + i + "\n")
	}
	b.WriteString(")\n\n")
	for _, r := range rest {
		b.WriteString(r + "\n\n")
	}
	for _, m := range mains {
		b.WriteString(m + "\n")
	}
	b.WriteString("func main() {}\n")
	// A folder whose name starts with "_" is not matched by ./... patterns, so the assembled cells never
	// join the module's own builds and vets.
	dir := filepath.Join("out", "_nbcheck", strings.TrimSuffix(filepath.Base(path), ".ipynb"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), b.Bytes(), 0o644); err != nil {
		return nil, err
	}
	out, err := exec.Command("go", "vet", "./"+dir).CombinedOutput()
	if err != nil {
		return []string{fmt.Sprintf("go vet of the assembled cells (%s/main.go):\n%s", dir, out)}, nil
	}
	return nil, nil
}

// splitImports removes the import declarations of a cell and returns the rest and the import specs.
func splitImports(src string) (string, []string) {
	var rest []string
	var imps []string
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		switch {
		case t == "import (":
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ")"; i++ {
				if s := strings.TrimSpace(lines[i]); s != "" {
					imps = append(imps, s)
				}
			}
		case strings.HasPrefix(t, "import "):
			imps = append(imps, strings.TrimPrefix(t, "import "))
		default:
			rest = append(rest, lines[i])
		}
	}
	return strings.Join(rest, "\n"), imps
}
