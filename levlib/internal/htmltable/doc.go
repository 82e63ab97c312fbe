// Package htmltable renders the HTML tables of the report and the notebooks.
package htmltable
