package dashboards

// GridColumns is the width of InfluxDB's dashboard grid; Grafana's is
// twice as wide.
const GridColumns = 12

// Cell is where a panel sits in the grid: column X, row Y, W columns
// wide and H rows high.
type Cell struct{ X, Y, W, H int }

// Layout places the panels left to right in rows of GridColumns
// columns, in order; a panel that does not fit on the current row starts
// the next, below the tallest panel of the row.
func Layout(ps []Panel) []Cell {
	cells := make([]Cell, len(ps))
	x, y, rowH := 0, 0, 0
	for i, p := range ps {
		w := min(max(p.W, 1), GridColumns)
		h := max(p.H, 1)
		if x+w > GridColumns {
			x, y, rowH = 0, y+rowH, 0
		}
		cells[i] = Cell{X: x, Y: y, W: w, H: h}
		x += w
		rowH = max(rowH, h)
	}
	return cells
}
