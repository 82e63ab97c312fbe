package levlib

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/levstudy/levstudy/levlib/internal/htmltable"
)

// BasesTable is one row per basis: family, size, rank against columns, Σℓ, max ℓ, rows with ℓ > 0.99,
// the singular values on both sides of the rank cut-off against the tolerance, and for trained networks
// their last epoch.
func BasesTable(bases []BasisReport) template.HTML {
	header := []string{"basis", "family", "rows × cols", "rank", "Σℓ", "max ℓ", "ℓ > 0.99", "σ<sub>r</sub> / tol / σ<sub>r+1</sub>", "path", "network"}
	var rows [][]string
	for _, b := range bases {
		net := ""
		if m := b.Manifest; m != nil {
			if n := len(m.History); n > 0 {
				h := m.History[n-1]
				net = fmt.Sprintf("%d epoch(s); loss %.3f; test acc %.3f", h.Epoch, h.Loss, h.TestAcc)
			} else {
				net = "untrained"
			}
		}
		if b.TrainedOn != "" {
			net += "<br><small>" + htmltable.Esc(b.TrainedOn) + "</small>"
		}
		path := "two-pass"
		if b.Refined {
			path = "refined"
		}
		rank := fmt.Sprintf("%d", b.Rank)
		if b.Rank < b.Cols {
			rank = fmt.Sprintf(`<b>%d</b>`, b.Rank)
		}
		rows = append(rows, []string{htmltable.Esc(b.Label), htmltable.Esc(b.Family), fmt.Sprintf("%d × %d", b.Rows, b.Cols), rank,
			fmt.Sprintf("%.3f", b.SumScores), fmt.Sprintf("%.4f", b.MaxScore), fmt.Sprint(b.NearOne),
			fmt.Sprintf("%.2g / %.2g / %.2g", b.SigmaRank, b.Tolerance, b.SigmaNext), path, net})
	}
	return htmltable.Render("bases", header, rows)
}

// FindingsList is the findings as an HTML list, each linked to its section of the report.
func FindingsList(fs []Finding) template.HTML {
	var b strings.Builder
	b.WriteString(`<ul class="findings">`)
	for _, f := range fs {
		fmt.Fprintf(&b, `<li>%s <a href="#%s">→</a></li>`, htmltable.Esc(f.Text), htmltable.Esc(f.Link))
	}
	b.WriteString("</ul>")
	return template.HTML(b.String())
}
