// Package plot draws the study's figures as Figures — values that write themselves as PNG (a
// notebook's inline image), SVG or PDF (the report's files): DigitGrid (images titled "Label: d
// (score)", ten to a row, as the seed notebook's cell 5), ScoreCurve (sorted leverage, log scale),
// LinePlot and PanelPlot (curves with interval bands, the legend beside the data), Heatmap (an
// annotated matrix). It draws with gonum/plot and knows nothing of the questions.
//
//	fig, err := plot.DigitGrid(ds, scores, rankstat.TopK(scores, 300), plot.GridOptions{Title: "top 300"})
//	err = fig.Save("top300.png")
package plot
