package htmltable

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// HTML tables of the study, shared by the report and the notebooks (levlib/nb displays them): compact
// pivots a reader scans; the CSV and JSON files keep every row.

// Render builds a table from a header and rows of cells that are already HTML.
func Render(class string, header []string, rows [][]string) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<table class="%s"><thead><tr>`, class)
	for _, h := range header {
		b.WriteString("<th>" + h + "</th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, c := range r {
			b.WriteString("<td>" + c + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	return template.HTML(b.String())
}

var Esc = html.EscapeString
