package recplot

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/twitchd/twitchd/internal/chart"
	"github.com/twitchd/twitchd/pipeline"
)

// Size is the default picture size.
const (
	Width  = 12 * vg.Inch
	Height = 8 * vg.Inch
	// legendWidth is the column of legends on the right.
	legendWidth = 2.6 * vg.Inch
)

var (
	signalColour   = chart.Hex("#9DB9E0")
	envColour      = chart.Hex("#1F4E99")
	accColour      = chart.Hex("#8FCFB4")
	intensityColor = map[string]color.Color{
		pipeline.IntensityLight: chart.Hex("#F6D7A7"), pipeline.IntensityModerate: chart.Hex("#EFA95A"),
		pipeline.IntensityVigorous: chart.Hex("#D9622B"),
	}
	restAfter  = chart.Hex("#F4E3B5")
	restPlain  = chart.Hex("#CFE8D5")
	crampColor = chart.Hex("#C62828")
	emgTwitch  = chart.Hex("#1F4E99")
	accTwitch  = chart.Hex("#19A979")
)

// Lanes of the event row, bottom to top.
var lanes = []string{"twitch acc", "twitch EMG", "cramps", "rest", "bouts"}

func lane(name string) float64 {
	for i, l := range lanes {
		if l == name {
			return float64(i)
		}
	}
	return -1
}

// Draw renders the recording in format "png" or "svg" at w by h.
func (r *Recording) Draw(format string, w, h vg.Length) ([]byte, error) {
	c, err := chart.Canvas(format, w, h)
	if err != nil {
		return nil, err
	}
	dc := draw.New(c)
	if format == "png" {
		dc.SetColor(color.White)
		dc.Fill(dc.Rectangle.Path())
	}
	title := draw.Crop(dc, 0, 0, h-vg.Points(44), 0)
	r.drawTitle(title)
	body := draw.Crop(dc, 0, -legendWidth, 0, -vg.Points(46))
	var rows [][]*plot.Plot
	var legends []plot.Legend
	add := func(p *plot.Plot) {
		// Each row's legend goes in a column of its own on the right,
		// so that it never hides data.
		legends = append(legends, p.Legend)
		p.Legend = plot.NewLegend()
		rows = append(rows, []*plot.Plot{p})
	}
	for i := range r.EMG {
		add(r.signalPlot(r.EMG[i], true))
	}
	for i := range r.Acc {
		add(r.signalPlot(r.Acc[i], false))
	}
	add(r.eventPlot())
	tiles := draw.Tiles{Rows: len(rows), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(8), PadRight: vg.Points(12), PadY: vg.Points(6)}
	canvases := plot.Align(rows, tiles, body)
	for i := range rows {
		rows[i][0].Draw(canvases[i][0])
		col := canvases[i][0]
		col.Min.X, col.Max.X = body.Max.X+vg.Points(4), dc.Max.X-vg.Points(4)
		legends[i].Top, legends[i].Left = true, true
		legends[i].Draw(col)
	}
	return chart.Encode(c)
}

// drawTitle writes what the recording is and its final status.
func (r *Recording) drawTitle(c draw.Canvas) {
	p := chart.New()
	big := p.Title.TextStyle
	big.Font.Size = vg.Points(13)
	big.XAlign, big.YAlign = draw.XLeft, draw.YCenter
	small := big
	small.Font.Size = vg.Points(10)
	confirmed := 0
	for _, t := range r.Twitches {
		if t.Confirmed {
			confirmed++
		}
	}
	line1 := fmt.Sprintf("%s (%s), %s to %s UTC: %d bouts, %d twitches (%d confirmed by both sensors), %d cramps",
		filepath.Base(r.File), r.Format, r.From.Format("2006-01-02 15:04:05"), r.To.Format("15:04:05"),
		len(r.Bouts), len(r.Twitches), confirmed, len(r.Cramps))
	line2 := "final status: none (no assessment)"
	if r.Final != nil {
		line2 = fmt.Sprintf("final status: %s: %s. %s", r.Final.Status, r.Final.Reason, "Not a medical device; not a diagnosis.")
	}
	x := c.Min.X + vg.Points(8)
	c.FillText(big, vg.Point{X: x, Y: c.Max.Y - vg.Points(16)}, line1)
	c.FillText(small, vg.Point{X: x, Y: c.Max.Y - vg.Points(32)}, line2)
}

// signalPlot draws a trace's min/max band, and the envelope for EMG.
func (r *Recording) signalPlot(tr Trace, emg bool) *plot.Plot {
	p := chart.New()
	chart.TimeAxis(p, r.From, r.To)
	p.Y.Label.Text = fmt.Sprintf("%s (%s)", tr.Name, tr.Unit)
	xs := make([]float64, len(tr.T))
	for i, t := range tr.T {
		xs[i] = float64(t) / 1e9
	}
	band := &chart.Band{X: xs, Lo: tr.Lo, Hi: tr.Hi, Color: signalColour}
	if !emg {
		band.Color = accColour
	}
	p.Add(plotter.NewGrid(), band)
	if emg {
		p.Legend.Add("band-passed EMG (min/max)", chart.Swatch{Color: signalColour})
		if env := envelopeLine(xs, tr.Env); env != nil {
			p.Add(env)
			p.Legend.Add("twitch envelope (RMS)", env)
		}
	} else {
		p.Legend.Add("acceleration magnitude (min/max)", chart.Swatch{Color: accColour})
	}
	_, _, lo, hi := band.DataRange()
	if !math.IsInf(lo, 0) {
		pad := (hi - lo) * 0.25
		p.Y.Min, p.Y.Max = lo-0.05*(hi-lo), hi+pad
	}
	p.X.Tick.Label.Font.Size = 0 // the event row below carries the time labels
	p.X.Tick.Label.Color = color.Transparent
	return p
}

func envelopeLine(xs, env []float64) *plotter.Line {
	var xys plotter.XYs
	for i, v := range env {
		if !math.IsNaN(v) {
			xys = append(xys, plotter.XY{X: xs[i], Y: v})
		}
	}
	if len(xys) < 2 {
		return nil
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil
	}
	l.Color, l.Width = envColour, vg.Points(0.8)
	return l
}

func sec(t pipeline.Timestamp) float64 { return float64(t) / 1e9 }

// eventPlot draws the bouts, rest, cramps and twitches in lanes.
func (r *Recording) eventPlot() *plot.Plot {
	p := chart.New()
	chart.TimeAxis(p, r.From, r.To)
	p.X.Label.Text = "time (UTC)"
	var ticks []plot.Tick
	for i, l := range lanes {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: l})
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = -0.6, float64(len(lanes))+0.4
	span := func(s, e pipeline.Timestamp, l string, c color.Color) {
		y := lane(l)
		p.Add(&chart.Spans{Spans: [][2]float64{{sec(s), sec(e)}}, Color: c, Y0: y - 0.35, Y1: y + 0.35})
	}
	seen := map[string]bool{}
	legend := func(name string, c color.Color) {
		if !seen[name] {
			seen[name] = true
			p.Legend.Add(name, chart.Swatch{Color: c})
		}
	}
	for _, b := range r.Bouts {
		c := intensityColor[b.Intensity]
		if c == nil {
			c = intensityColor[pipeline.IntensityModerate]
		}
		span(b.Start, b.End, "bouts", c)
		legend("bout "+b.Intensity, c)
	}
	for _, x := range r.Rests {
		c, name := restPlain, "rest, no exercise before"
		if x.AfterExercise {
			c, name = restAfter, "rest after exercise"
		}
		span(x.Start, x.End, "rest", c)
		legend(name, c)
	}
	for _, c := range r.Cramps {
		span(c.Start, c.End, "cramps", crampColor)
		legend("cramp", crampColor)
	}
	r.twitchMarks(p)
	p.Add(plotter.NewGrid())
	return p
}

// twitchMarks draws each twitch in its sensor's lane: a filled circle
// when both sensors saw it, a ring when only one did.
func (r *Recording) twitchMarks(p *plot.Plot) {
	type key struct {
		sensor    string
		confirmed bool
	}
	pts := map[key]plotter.XYs{}
	for _, t := range r.Twitches {
		y := lane("twitch EMG")
		if t.Sensor != pipeline.SensorEMG {
			y = lane("twitch acc")
		}
		k := key{t.Sensor, t.Confirmed}
		pts[k] = append(pts[k], plotter.XY{X: sec(t.Start), Y: y})
	}
	for _, k := range []key{{pipeline.SensorEMG, true}, {pipeline.SensorEMG, false}, {pipeline.SensorAcc, true}, {pipeline.SensorAcc, false}} {
		xys := pts[k]
		if len(xys) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			continue
		}
		c := emgTwitch
		if k.sensor == pipeline.SensorAcc {
			c = accTwitch
		}
		s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(3.5), Shape: draw.RingGlyph{}}
		name := fmt.Sprintf("%s twitch, one sensor (%d)", k.sensor, len(xys))
		if k.confirmed {
			s.GlyphStyle.Shape = draw.CircleGlyph{}
			name = fmt.Sprintf("%s twitch, confirmed by both (%d)", k.sensor, len(xys))
		}
		p.Add(s)
		p.Legend.Add(name, s)
	}
}

// Duration is how long the range shown lasts.
func (r *Recording) Duration() time.Duration { return r.To.Sub(r.From) }
