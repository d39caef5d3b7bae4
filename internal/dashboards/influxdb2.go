package dashboards

import (
	"encoding/json"
	"fmt"
)

// TemplateAPIVersion is the apiVersion of the InfluxDB 2.x template
// objects (`influx apply` accepts it from InfluxDB 2.0 on).
const TemplateAPIVersion = "influxdata.com/v2alpha1"

// Names of the template's objects (DNS-1123 labels, as `influx apply`
// requires).
const (
	TemplateLabel     = "twitchd"
	TemplateDashboard = "twitchd-twitching"
	templateVarPrefix = "twitchd-var-"
)

// Palette are the series colours of every output, in order.
var Palette = []string{"#3A7BD5", "#E8743B", "#19A979", "#945ECF", "#ED4A7B", "#13A4B4", "#525DF4", "#BF399E"}

// heatColours run from few to many twitches.
var heatColours = []string{"#F3F6FB", "#BCD3F0", "#7FA8E0", "#3A7BD5", "#1F4E99", "#0B2A5B"}

// object is one object of an InfluxDB template.
type object struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       any            `json:"spec"`
}

type association struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

type labelSpec struct {
	Name        string `json:"name"`
	Color       string `json:"color"`
	Description string `json:"description"`
}

type variableSpec struct {
	Name         string        `json:"name"`
	Description  string        `json:"description,omitempty"`
	Type         string        `json:"type"`
	Language     string        `json:"language"`
	Query        string        `json:"query"`
	Associations []association `json:"associations"`
}

type dashboardSpec struct {
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	Associations []association `json:"associations"`
	Charts       []chart       `json:"charts"`
}

type chartQuery struct {
	Query string `json:"query"`
}

type chartColor struct {
	ID    string   `json:"id,omitempty"`
	Name  string   `json:"name,omitempty"`
	Type  string   `json:"type,omitempty"`
	Hex   string   `json:"hex"`
	Value *float64 `json:"value,omitempty"`
}

type chartAxis struct {
	Name   string    `json:"name"`
	Label  string    `json:"label,omitempty"`
	Suffix string    `json:"suffix,omitempty"`
	Base   string    `json:"base,omitempty"`
	Scale  string    `json:"scale,omitempty"`
	Domain []float64 `json:"domain,omitempty"`
}

type fieldOption struct {
	FieldName   string `json:"fieldName"`
	DisplayName string `json:"displayName"`
	Visible     bool   `json:"visible"`
}

type tableOptions struct {
	VerticalTimeAxis bool   `json:"verticalTimeAxis"`
	SortBy           string `json:"sortBy,omitempty"`
	Wrapping         string `json:"wrapping"`
	FixFirstColumn   bool   `json:"fixFirstColumn"`
}

// chart is one cell of an InfluxDB dashboard, in the template's terms.
type chart struct {
	Kind          string        `json:"kind"`
	Name          string        `json:"name"`
	Note          string        `json:"note,omitempty"`
	NoteOnEmpty   bool          `json:"noteOnEmpty,omitempty"`
	XPos          int           `json:"xPos"`
	YPos          int           `json:"yPos"`
	Width         int           `json:"width"`
	Height        int           `json:"height"`
	Queries       []chartQuery  `json:"queries,omitempty"`
	Colors        []chartColor  `json:"colors,omitempty"`
	Axes          []chartAxis   `json:"axes,omitempty"`
	Geom          string        `json:"geom,omitempty"`
	Position      string        `json:"position,omitempty"`
	XCol          string        `json:"xCol,omitempty"`
	YCol          string        `json:"yCol,omitempty"`
	Shade         bool          `json:"shade,omitempty"`
	BinSize       int           `json:"binSize,omitempty"`
	BinCount      int           `json:"binCount,omitempty"`
	FillColumns   []string      `json:"fillColumns,omitempty"`
	Suffix        string        `json:"suffix,omitempty"`
	DecimalPlaces *int          `json:"decimalPlaces,omitempty"`
	FieldOptions  []fieldOption `json:"fieldOptions,omitempty"`
	TableOptions  *tableOptions `json:"tableOptions,omitempty"`
	TimeFormat    string        `json:"timeFormat,omitempty"`
	LegendOpacity float64       `json:"legendOpacity,omitempty"`
	HoverDim      string        `json:"hoverDimension,omitempty"`
}

// Template renders d as an InfluxDB 2.x template (a JSON array of
// objects: a Label, the Variables, one Dashboard) for `influx apply -f`.
func Template(d *Dashboard) ([]byte, error) {
	label := []association{{Kind: "Label", Name: TemplateLabel}}
	objs := []object{{
		APIVersion: TemplateAPIVersion, Kind: "Label",
		Metadata: map[string]any{"name": TemplateLabel},
		Spec:     labelSpec{Name: "twitchd", Color: Palette[0], Description: "Dashboards and variables of twitchd"},
	}}
	for _, v := range d.Variables {
		objs = append(objs, object{
			APIVersion: TemplateAPIVersion, Kind: "Variable",
			Metadata: map[string]any{"name": templateVarPrefix + v.Name},
			Spec: variableSpec{Name: v.Name, Description: v.Label + " (twitchd)", Type: "query", Language: "flux",
				Query: v.Flux, Associations: label},
		})
	}
	cells := Layout(d.Panels)
	charts := make([]chart, 0, len(d.Panels))
	for i, p := range d.Panels {
		c, err := influxChart(p, cells[i])
		if err != nil {
			return nil, err
		}
		charts = append(charts, c)
	}
	objs = append(objs, object{
		APIVersion: TemplateAPIVersion, Kind: "Dashboard",
		Metadata: map[string]any{"name": TemplateDashboard},
		Spec:     dashboardSpec{Name: d.Title, Description: d.Description, Associations: label, Charts: charts},
	})
	return json.MarshalIndent(objs, "", "  ")
}

func seriesColors() []chartColor {
	cs := make([]chartColor, len(Palette))
	for i, h := range Palette {
		cs[i] = chartColor{ID: fmt.Sprintf("s%d", i), Name: fmt.Sprintf("series %d", i+1), Type: "scale", Hex: h}
	}
	return cs
}

func intPtr(i int) *int { return &i }

// influxChart renders one panel as a chart in cell c.
func influxChart(p Panel, c Cell) (chart, error) {
	ch := chart{Name: p.Title, Note: p.Help, NoteOnEmpty: p.Help != "", XPos: c.X, YPos: c.Y, Width: c.W, Height: c.H}
	if p.Flux != "" {
		ch.Queries = []chartQuery{{Query: p.Flux}}
	}
	x := chartAxis{Name: "x", Label: p.XLabel, Base: "10", Scale: "linear"}
	y := chartAxis{Name: "y", Label: p.YLabel, Suffix: p.Unit, Base: "10", Scale: "linear"}
	switch p.Kind {
	case KindNote:
		ch.Kind, ch.Note, ch.NoteOnEmpty = "Markdown", "## "+p.Title+"\n\n"+p.Text, false
	case KindTable:
		ch.Kind = "Table"
		ch.Colors = []chartColor{{ID: "base", Name: "laser", Type: "text", Hex: Palette[0]}}
		ch.DecimalPlaces = intPtr(2)
		ch.TimeFormat = "YYYY-MM-DD HH:mm:ss"
		ch.TableOptions = &tableOptions{VerticalTimeAxis: true, Wrapping: "wrap"}
		for _, col := range p.Columns {
			ch.FieldOptions = append(ch.FieldOptions, fieldOption{FieldName: col.Name, DisplayName: col.Title, Visible: true})
		}
	case KindStat:
		ch.Kind, ch.Suffix, ch.DecimalPlaces = "Single_Stat", p.Unit, intPtr(0)
		ch.Colors = []chartColor{{ID: "base", Name: "laser", Type: "text", Hex: Palette[0]}}
	case KindLines, KindSteps, KindBars:
		ch.Kind, ch.XCol, ch.YCol, ch.HoverDim, ch.LegendOpacity = "XY", "_time", "_value", "auto", 1
		ch.Axes, ch.Colors = []chartAxis{x, y}, seriesColors()
		ch.Geom, ch.Position = "line", "overlaid"
		switch p.Kind {
		case KindSteps:
			ch.Geom = "step"
			ch.Axes[1].Domain = []float64{0, float64(len(p.Levels) - 1)}
		case KindBars:
			ch.Geom, ch.Position = "bar", "stacked"
		}
		if p.Markers != "" {
			// The InfluxDB UI has no markers: symptom notes become a
			// series of their own (one point per note, at 0).
			ch.Queries = append(ch.Queries, chartQuery{Query: p.Markers + markerSeries})
		}
	case KindHeatmap:
		ch.Kind, ch.XCol, ch.YCol, ch.BinSize = "Heatmap", "_time", "_value", 10
		y.Domain = []float64{0, 24}
		ch.Axes = []chartAxis{x, y}
		for _, h := range heatColours {
			ch.Colors = append(ch.Colors, chartColor{Hex: h})
		}
	case KindHistogram:
		ch.Kind, ch.XCol, ch.BinCount, ch.Position, ch.LegendOpacity = "Histogram", "_value", p.Bins, "stacked", 1
		if p.Series != "" {
			ch.FillColumns = []string{p.Series}
		}
		ch.Axes, ch.Colors = []chartAxis{x}, seriesColors()
	default:
		return chart{}, fmt.Errorf("dashboards: panel %s: no InfluxDB chart for kind %d", p.ID, p.Kind)
	}
	return ch, nil
}

// markerSeries turns the marker rows into a series the InfluxDB UI can draw.
const markerSeries = `  |> map(fn: (r) => ({_time: r._time, _value: 0.0, note: "symptom: " + r.symptom}))
  |> group(columns: ["note"])
`
