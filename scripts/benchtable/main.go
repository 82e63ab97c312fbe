// Command benchtable reads `go test -bench` output on stdin and prints a Markdown table: one row per
// benchmark, one column per metric (time per op in seconds, then custom metrics such as GFLOP/s or
// images/s, then memory).
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	type row struct {
		name    string
		metrics map[string]string
	}
	var rows []row
	var units []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		r := row{name: strings.TrimPrefix(name, "Benchmark"), metrics: map[string]string{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, unit := f[i], f[i+1]
			if unit == "ns/op" {
				if ns, err := strconv.ParseFloat(v, 64); err == nil {
					v, unit = fmt.Sprintf("%.3f", ns/1e9), "s/op"
				}
			}
			if unit == "B/op" {
				if by, err := strconv.ParseFloat(v, 64); err == nil {
					v, unit = fmt.Sprintf("%.1f", by/(1<<20)), "MiB/op"
				}
			}
			r.metrics[unit] = v
			if !seen[unit] {
				seen[unit] = true
				units = append(units, unit)
			}
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark lines on stdin")
		os.Exit(1)
	}
	fmt.Printf("| benchmark | %s |\n|---|%s\n", strings.Join(units, " | "), strings.Repeat("---:|", len(units)))
	for _, r := range rows {
		var cells []string
		for _, u := range units {
			cells = append(cells, r.metrics[u])
		}
		fmt.Printf("| %s | %s |\n", r.name, strings.Join(cells, " | "))
	}
}
