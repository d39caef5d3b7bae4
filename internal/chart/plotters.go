package chart

import (
	"image/color"
	"math"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Bar is one value of a series at a time (Unix seconds).
type Bar struct {
	X, Y float64
}

// StackedBars draws series of bars stacked on each other, each bar
// Width wide (in x units) and centred on its x plus Width/2 (so a bar
// at a day's start covers most of that day).
type StackedBars struct {
	Series [][]Bar
	Colors []color.Color
	Width  float64
}

// Plot implements plot.Plotter.
func (b *StackedBars) Plot(c draw.Canvas, p *plot.Plot) {
	base := map[float64]float64{}
	for i, s := range b.Series {
		for _, v := range s {
			y0 := base[v.X]
			fillRect(c, p, b.Colors[i%len(b.Colors)], v.X+0.1*b.Width, v.X+0.9*b.Width, y0, y0+v.Y)
			base[v.X] = y0 + v.Y
		}
	}
}

// DataRange implements plot.DataRanger.
func (b *StackedBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	sum := map[float64]float64{}
	for _, s := range b.Series {
		for _, v := range s {
			xmin, xmax = math.Min(xmin, v.X), math.Max(xmax, v.X+b.Width)
			sum[v.X] += v.Y
		}
	}
	for _, y := range sum {
		ymax = math.Max(ymax, y)
	}
	return xmin, xmax, 0, ymax
}

// Cells draws counts in a grid of days (x, Unix seconds of the day's
// start) by hours of day (y, 0 to 24), darker for more.
type Cells struct {
	Counts map[[2]int64]int // (day start, hour) -> count
	Scale  []color.Color    // from few to many
}

// Plot implements plot.Plotter.
func (h *Cells) Plot(c draw.Canvas, p *plot.Plot) {
	top := h.Max()
	day := (24 * time.Hour).Seconds()
	for k, n := range h.Counts {
		i := int(math.Round(float64(n) / float64(top) * float64(len(h.Scale)-1)))
		i = min(max(i, 1), len(h.Scale)-1) // any twitch is visible
		x, y := float64(k[0]), float64(k[1])
		fillRect(c, p, h.Scale[i], x+0.03*day, x+0.97*day, y+0.05, y+0.95)
	}
}

// Max returns the highest count.
func (h *Cells) Max() int {
	top := 1
	for _, n := range h.Counts {
		top = max(top, n)
	}
	return top
}

// DataRange implements plot.DataRanger.
func (h *Cells) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for k := range h.Counts {
		xmin, xmax = math.Min(xmin, float64(k[0])), math.Max(xmax, float64(k[0])+86400)
	}
	return xmin, xmax, 0, 24
}

// Mark is a labelled moment (Unix seconds).
type Mark struct {
	X     float64
	Label string
}

// Marks draws a dashed vertical line at each mark with its label at
// the top, rotated.
type Marks struct {
	Marks []Mark
	Color color.Color
}

// Plot implements plot.Plotter.
func (m *Marks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	sty := draw.TextStyle{Color: m.Color, Font: p.Legend.TextStyle.Font, Rotation: math.Pi / 2,
		XAlign: draw.XRight, YAlign: draw.YTop, Handler: p.Legend.TextStyle.Handler}
	sort.Slice(m.Marks, func(i, j int) bool { return m.Marks[i].X < m.Marks[j].X })
	for _, mk := range m.Marks {
		x := trX(mk.X)
		if !c.ContainsX(x) {
			continue
		}
		ls := draw.LineStyle{Color: m.Color, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}
		c.StrokeLine2(ls, x, c.Min.Y, x, c.Max.Y)
		c.FillText(sty, vg.Point{X: x - vg.Points(2), Y: c.Max.Y - vg.Points(2)}, mk.Label)
	}
}

// Spans shades time spans (x0..x1) over the full height, as a lane.
type Spans struct {
	Spans [][2]float64
	Color color.Color
	// Y0 and Y1 bound the shaded band in data units; both zero means the
	// whole height.
	Y0, Y1 float64
}

// Plot implements plot.Plotter.
func (s *Spans) Plot(c draw.Canvas, p *plot.Plot) {
	y0, y1 := s.Y0, s.Y1
	if y0 == 0 && y1 == 0 {
		y0, y1 = p.Y.Min, p.Y.Max
	}
	for _, sp := range s.Spans {
		fillRect(c, p, s.Color, sp[0], sp[1], y0, y1)
	}
}

// Band fills between a lower and an upper line sampled at the same x
// (a signal's minimum and maximum per pixel column); NaN breaks it.
type Band struct {
	X, Lo, Hi []float64
	Color     color.Color
}

// Plot implements plot.Plotter.
func (b *Band) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	flush := func(i, j int) {
		if j-i < 1 {
			return
		}
		pts := make([]vg.Point, 0, 2*(j-i)+2)
		for k := i; k < j; k++ {
			pts = append(pts, vg.Point{X: trX(b.X[k]), Y: trY(b.Hi[k])})
		}
		for k := j - 1; k >= i; k-- {
			pts = append(pts, vg.Point{X: trX(b.X[k]), Y: trY(b.Lo[k])})
		}
		c.FillPolygon(b.Color, c.ClipPolygonXY(pts))
		// The outline keeps a band visible where it is thinner than a
		// line (one sample per column, a flat signal).
		c.StrokeLines(draw.LineStyle{Color: b.Color, Width: vg.Points(0.7)}, c.ClipLinesXY(append(pts, pts[0]))...)
	}
	start := 0
	for k := range b.X {
		if math.IsNaN(b.Lo[k]) || math.IsNaN(b.Hi[k]) {
			flush(start, k)
			start = k + 1
		}
	}
	flush(start, len(b.X))
}

// DataRange implements plot.DataRanger.
func (b *Band) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for k, x := range b.X {
		if math.IsNaN(b.Lo[k]) {
			continue
		}
		xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
		ymin, ymax = math.Min(ymin, b.Lo[k]), math.Max(ymax, b.Hi[k])
	}
	return xmin, xmax, ymin, ymax
}
