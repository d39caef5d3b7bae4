// Package chart holds what twitchd's pictures share on top of
// gonum.org/v1/plot: a plot with readable fonts, ticks at round times of
// day, stacked time bars, day-by-hour cells, labelled vertical markers,
// and output to SVG or PNG by file extension.
package chart

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Hex parses "#rrggbb"; anything else is grey.
func Hex(s string) color.Color {
	if len(s) == 7 && s[0] == '#' {
		if v, err := strconv.ParseUint(s[1:], 16, 32); err == nil {
			return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 255}
		}
	}
	return color.Gray{Y: 128}
}

// New returns a plot in a sans-serif face, with a light grid colour for
// the axes, a legend on top and no title (pages put titles in HTML).
func New() *plot.Plot {
	p := plot.New()
	sans := func(f *font.Font, size vg.Length) {
		f.Typeface, f.Variant, f.Size = "Liberation", "Sans", size
	}
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		sans(&a.Label.TextStyle.Font, 11)
		sans(&a.Tick.Label.Font, 9)
		a.Color = color.Gray{Y: 120}
		a.Tick.Color = color.Gray{Y: 120}
	}
	sans(&p.Title.TextStyle.Font, 12)
	sans(&p.Legend.TextStyle.Font, 9)
	p.Legend.Top = true
	p.Legend.Left = true
	return p
}

// timeTicker places ticks at round UTC times: days, or hours, minutes
// and seconds for short ranges. Values are Unix seconds.
type timeTicker struct{}

var tickSteps = []struct {
	step   time.Duration
	format string
}{
	{time.Second, "15:04:05"}, {5 * time.Second, "15:04:05"}, {15 * time.Second, "15:04:05"},
	{time.Minute, "15:04"}, {5 * time.Minute, "15:04"}, {15 * time.Minute, "15:04"},
	{time.Hour, "15:04"}, {3 * time.Hour, "Jan 2 15:04"}, {6 * time.Hour, "Jan 2 15:04"},
	{24 * time.Hour, "Jan 2"}, {2 * 24 * time.Hour, "Jan 2"}, {7 * 24 * time.Hour, "Jan 2"},
	{14 * 24 * time.Hour, "Jan 2"}, {30 * 24 * time.Hour, "Jan 2"},
}

// Ticks implements plot.Ticker: at most about 7 labelled ticks.
func (timeTicker) Ticks(lo, hi float64) []plot.Tick {
	span := time.Duration((hi - lo) * 1e9)
	i := 0
	for i < len(tickSteps)-1 && span/tickSteps[i].step > 7 {
		i++
	}
	st := tickSteps[i]
	sec := st.step.Seconds()
	var ticks []plot.Tick
	for t := math.Ceil(lo/sec) * sec; t <= hi+1e-9; t += sec {
		ticks = append(ticks, plot.Tick{Value: t, Label: time.Unix(int64(t), 0).UTC().Format(st.format)})
	}
	return ticks
}

// TimeAxis makes p's x axis a UTC time axis from 'from' to 'to'; x
// values are Unix seconds.
func TimeAxis(p *plot.Plot, from, to time.Time) {
	p.X.Min, p.X.Max = Seconds(from), Seconds(to)
	p.X.Tick.Marker = timeTicker{}
}

// Seconds is t as Unix seconds, the x value of a time axis.
func Seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Levels labels the y values 0..len(names)-1 with names.
func Levels(p *plot.Plot, names []string) {
	var ticks []plot.Tick
	for i, n := range names {
		if n != "" {
			ticks = append(ticks, plot.Tick{Value: float64(i), Label: n})
		}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = -0.3, float64(len(names)-1)+0.3
}

// Swatch is a legend thumbnail: a filled square.
type Swatch struct{ Color color.Color }

// Thumbnail implements plot.Thumbnailer.
func (s Swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.Color, c.ClipPolygonXY([]vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}))
}

// fillRect fills the data rectangle x0..x1, y0..y1.
func fillRect(c draw.Canvas, p *plot.Plot, clr color.Color, x0, x1, y0, y1 float64) {
	trX, trY := p.Transforms(&c)
	pts := []vg.Point{{X: trX(x0), Y: trY(y0)}, {X: trX(x1), Y: trY(y0)}, {X: trX(x1), Y: trY(y1)}, {X: trX(x0), Y: trY(y1)}}
	c.FillPolygon(clr, c.ClipPolygonXY(pts))
}

// SVG renders p as an SVG document of w by h.
func SVG(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	c, err := Canvas("svg", w, h)
	if err != nil {
		return nil, err
	}
	p.Draw(draw.New(c))
	return Encode(c)
}

// Canvas returns an empty canvas of w by h for format "svg" or "png"
// (at 144 dots per inch).
func Canvas(format string, w, h vg.Length) (vg.CanvasWriterTo, error) {
	switch format {
	case "svg":
		return vgsvg.New(w, h), nil
	case "png":
		return vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(144))}, nil
	}
	return nil, fmt.Errorf("chart: unknown image format %q (want svg or png)", format)
}

// Encode returns what c drew, in its format.
func Encode(c vg.CanvasWriterTo) ([]byte, error) {
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	return b.Bytes(), nil
}

// Format returns the image format for path by its extension: "svg" or
// "png", or an error for anything else.
func Format(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".svg", ".png":
		return ext[1:], nil
	default:
		return "", fmt.Errorf("chart: %s: want a .png or .svg file name", path)
	}
}

// WriteFile writes b to path through a temporary file in the same
// directory, so that a failure leaves no half picture.
func WriteFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}
