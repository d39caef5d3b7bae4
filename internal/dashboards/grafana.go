package dashboards

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Grafana settings the dashboard and the provisioning files agree on.
const (
	// GrafanaSchemaVersion is the dashboard schema of Grafana 10.4 and
	// 11.x; later versions migrate it when they load it.
	GrafanaSchemaVersion = 39
	// GrafanaDataSourceUID is the uid of the provisioned InfluxDB data
	// source that every panel and variable refers to.
	GrafanaDataSourceUID = "twitchd-influxdb"
	// GrafanaDashboardUID is the dashboard's uid.
	GrafanaDashboardUID = "twitchd-twitching"
	// GrafanaFolder is the folder the provider puts the dashboard in.
	GrafanaFolder = "twitchd"
)

// grafanaVar matches v.NAME for a dashboard variable (not the built-in
// v.timeRangeStart, v.timeRangeStop and v.windowPeriod, which Grafana's
// Flux mode provides itself).
var grafanaVar = regexp.MustCompile(`\bv\.(subject|site)\b`)

// GrafanaFlux returns flux as Grafana must run it: Grafana substitutes
// dashboard variables as text (${NAME}), not through the `v` record.
func GrafanaFlux(flux string) string {
	return grafanaVar.ReplaceAllString(flux, `"$${$1}"`)
}

type gDataSource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

func gRef() gDataSource { return gDataSource{Type: "influxdb", UID: GrafanaDataSourceUID} }

type gTarget struct {
	RefID      string      `json:"refId"`
	DataSource gDataSource `json:"datasource"`
	Query      string      `json:"query"`
}

type gGridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

type gPanel struct {
	ID              int          `json:"id"`
	Type            string       `json:"type"`
	Title           string       `json:"title"`
	Description     string       `json:"description,omitempty"`
	GridPos         gGridPos     `json:"gridPos"`
	DataSource      *gDataSource `json:"datasource,omitempty"`
	Targets         []gTarget    `json:"targets,omitempty"`
	FieldConfig     gFieldConfig `json:"fieldConfig"`
	Options         any          `json:"options"`
	Transformations []any        `json:"transformations,omitempty"`
}

type gFieldConfig struct {
	Defaults  map[string]any `json:"defaults"`
	Overrides []any          `json:"overrides"`
}

type gVariable struct {
	Name       string      `json:"name"`
	Label      string      `json:"label"`
	Type       string      `json:"type"`
	DataSource gDataSource `json:"datasource"`
	Query      string      `json:"query"`
	Definition string      `json:"definition"`
	Refresh    int         `json:"refresh"`
	Sort       int         `json:"sort"`
	IncludeAll bool        `json:"includeAll"`
	Multi      bool        `json:"multi"`
	Hide       int         `json:"hide"`
	Current    struct{}    `json:"current"`
	Options    []any       `json:"options"`
}

type gAnnotation struct {
	BuiltIn    int            `json:"builtIn,omitempty"`
	Name       string         `json:"name"`
	Type       string         `json:"type,omitempty"`
	DataSource gDataSource    `json:"datasource"`
	Enable     bool           `json:"enable"`
	Hide       bool           `json:"hide"`
	IconColor  string         `json:"iconColor"`
	Target     map[string]any `json:"target,omitempty"`
}

type gDashboard struct {
	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	Description   string         `json:"description"`
	Tags          []string       `json:"tags"`
	Timezone      string         `json:"timezone"`
	Editable      bool           `json:"editable"`
	GraphTooltip  int            `json:"graphTooltip"`
	SchemaVersion int            `json:"schemaVersion"`
	Version       int            `json:"version"`
	Refresh       string         `json:"refresh"`
	Time          map[string]any `json:"time"`
	Templating    struct {
		List []gVariable `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []gAnnotation `json:"list"`
	} `json:"annotations"`
	Panels []gPanel `json:"panels"`
	Links  []any    `json:"links"`
}

// GrafanaDashboard renders d as a Grafana dashboard (JSON model, schema
// GrafanaSchemaVersion) whose panels query the InfluxDB data source
// GrafanaDataSourceUID with Flux.
func GrafanaDashboard(d *Dashboard) ([]byte, error) {
	g := gDashboard{
		UID: GrafanaDashboardUID, Title: d.Title, Description: d.Description, Tags: []string{"twitchd"},
		Timezone: "utc", Editable: true, GraphTooltip: 1, SchemaVersion: GrafanaSchemaVersion, Version: 1,
		Time: map[string]any{"from": "now-30d", "to": "now"}, Links: []any{},
	}
	for _, v := range d.Variables {
		q := GrafanaFlux(v.Flux)
		g.Templating.List = append(g.Templating.List, gVariable{Name: v.Name, Label: v.Label, Type: "query",
			DataSource: gRef(), Query: q, Definition: q, Refresh: 1, Sort: 1, Options: []any{}})
	}
	g.Annotations.List = []gAnnotation{{BuiltIn: 1, Name: "Annotations & Alerts", Type: "dashboard",
		DataSource: gDataSource{Type: "grafana", UID: "-- Grafana --"}, Enable: true, Hide: true, IconColor: "rgba(0, 211, 255, 1)"}}
	cells := Layout(d.Panels)
	for i, p := range d.Panels {
		gp, err := grafanaPanel(p, i+1, cells[i])
		if err != nil {
			return nil, err
		}
		g.Panels = append(g.Panels, gp)
		if p.Markers != "" {
			g.Annotations.List = append(g.Annotations.List, gAnnotation{Name: "Symptom notes", DataSource: gRef(),
				Enable: true, IconColor: Palette[4],
				Target: map[string]any{"refId": "Anno", "query": GrafanaFlux(p.Markers + markerText)}})
		}
	}
	return json.MarshalIndent(g, "", "  ")
}

// markerText gives Grafana's annotations their text.
const markerText = `  |> map(fn: (r) => ({_time: r._time, text: r.symptom + (if exists r.text then ": " + r.text else "")}))
`

func grafanaPanel(p Panel, id int, c Cell) (gPanel, error) {
	gp := gPanel{ID: id, Title: p.Title, Description: p.Help,
		GridPos:     gGridPos{X: 2 * c.X, W: 2 * c.W, Y: 3 * c.Y, H: 3 * c.H},
		FieldConfig: gFieldConfig{Defaults: map[string]any{}, Overrides: []any{}}}
	if p.Flux != "" {
		ref := gRef()
		gp.DataSource = &ref
		gp.Targets = []gTarget{{RefID: "A", DataSource: ref, Query: GrafanaFlux(p.Flux)}}
	}
	if p.Unit != "" {
		gp.FieldConfig.Defaults["unit"] = "suffix:" + p.Unit
	}
	legend := map[string]any{"showLegend": true, "displayMode": "list", "placement": "bottom"}
	switch p.Kind {
	case KindNote:
		gp.Type = "text"
		gp.Options = map[string]any{"mode": "markdown", "content": p.Text}
	case KindTable:
		gp.Type = "table"
		gp.Options = map[string]any{"showHeader": true, "cellHeight": "sm"}
		index, rename := map[string]int{}, map[string]string{}
		for i, col := range p.Columns {
			index[col.Name], rename[col.Name] = i, col.Title
		}
		gp.Transformations = []any{map[string]any{"id": "organize",
			"options": map[string]any{"indexByName": index, "renameByName": rename, "excludeByName": map[string]bool{}}}}
		gp.FieldConfig.Defaults["custom"] = map[string]any{"cellOptions": map[string]any{"type": "auto"}, "inspect": true}
	case KindStat:
		gp.Type = "stat"
		gp.Options = map[string]any{"reduceOptions": map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
			"colorMode": "none", "graphMode": "none", "textMode": "value"}
		gp.FieldConfig.Defaults["decimals"] = 0
		gp.FieldConfig.Defaults["noValue"] = "0"
	case KindLines, KindSteps, KindBars:
		gp.Type = "timeseries"
		gp.Options = map[string]any{"legend": legend, "tooltip": map[string]any{"mode": "multi", "sort": "none"}}
		custom := map[string]any{"drawStyle": "line", "lineInterpolation": "linear", "showPoints": "always",
			"pointSize": 6, "fillOpacity": 0, "stacking": map[string]any{"mode": "none", "group": "A"},
			"axisLabel": p.YLabel, "spanNulls": false}
		switch p.Kind {
		case KindSteps:
			custom["lineInterpolation"] = "stepAfter"
			gp.FieldConfig.Defaults["min"], gp.FieldConfig.Defaults["max"] = 0, len(p.Levels)-1
			gp.FieldConfig.Defaults["mappings"] = levelMappings(p.Levels)
		case KindBars:
			custom["drawStyle"], custom["fillOpacity"], custom["showPoints"] = "bars", 80, "never"
			custom["stacking"] = map[string]any{"mode": "normal", "group": "A"}
		}
		gp.FieldConfig.Defaults["custom"] = custom
		if p.Series != "" {
			gp.FieldConfig.Defaults["displayName"] = "${__field.labels." + p.Series + "}"
		}
		gp.FieldConfig.Defaults["color"] = map[string]any{"mode": "palette-classic"}
	case KindHeatmap:
		gp.Type = "heatmap"
		gp.Options = map[string]any{
			"calculate": true,
			"calculation": map[string]any{"xBuckets": map[string]any{"mode": "size", "value": "1d"},
				"yBuckets": map[string]any{"mode": "size", "value": "1"}},
			"color":     map[string]any{"mode": "scheme", "scheme": "Blues", "steps": 64, "fill": Palette[0]},
			"yAxis":     map[string]any{"axisLabel": p.YLabel, "min": 0, "max": 24, "unit": "none"},
			"cellGap":   1,
			"legend":    map[string]any{"show": true},
			"tooltip":   map[string]any{"mode": "single", "yHistogram": false},
			"rowsFrame": map[string]any{"layout": "auto"},
		}
	case KindHistogram:
		gp.Type = "histogram"
		gp.Options = map[string]any{"bucketCount": p.Bins, "combine": false, "legend": legend}
		gp.FieldConfig.Defaults["custom"] = map[string]any{"fillOpacity": 80, "axisLabel": p.XLabel}
		gp.FieldConfig.Defaults["color"] = map[string]any{"mode": "palette-classic"}
	default:
		return gPanel{}, fmt.Errorf("dashboards: panel %s: no Grafana panel for kind %d", p.ID, p.Kind)
	}
	return gp, nil
}

// levelMappings names the values 0, 1, ... of a step chart.
func levelMappings(levels []string) []any {
	opts := map[string]any{}
	for i, l := range levels {
		if l != "" {
			opts[strconv.Itoa(i)] = map[string]any{"text": l, "index": i}
		}
	}
	return []any{map[string]any{"type": "value", "options": opts}}
}

// GrafanaSettings are what the provisioned data source points at.
type GrafanaSettings struct {
	URL    string // InfluxDB URL as Grafana reaches it
	Org    string
	Bucket string
	// DashboardsPath is where the provider reads the dashboard JSON from,
	// on the Grafana host.
	DashboardsPath string
}

// yamlString quotes s for YAML: a JSON string is a YAML double-quoted scalar.
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// GrafanaDataSource returns the provisioning file of the InfluxDB data
// source (Flux), for Grafana's provisioning/datasources directory. The
// token comes from Grafana's environment ($INFLUX_TOKEN).
func GrafanaDataSource(s GrafanaSettings) []byte {
	var b strings.Builder
	b.WriteString("# Grafana data source for the twitchd dashboard (written by `twitchd dashboards export`).\n")
	b.WriteString("# The token is read from Grafana's environment: INFLUX_TOKEN (on InfluxDB 1.8 without\n")
	b.WriteString("# authentication any text, e.g. \"none\"; with authentication \"user:password\").\n")
	b.WriteString("apiVersion: 1\n\ndatasources:\n")
	fmt.Fprintf(&b, "  - name: %s\n    uid: %s\n    type: influxdb\n    access: proxy\n    url: %s\n",
		yamlString("twitchd InfluxDB"), yamlString(GrafanaDataSourceUID), yamlString(s.URL))
	fmt.Fprintf(&b, "    jsonData:\n      version: Flux\n      organization: %s\n      defaultBucket: %s\n      httpMode: POST\n",
		yamlString(s.Org), yamlString(s.Bucket))
	b.WriteString("    secureJsonData:\n      token: $INFLUX_TOKEN\n    editable: true\n")
	return []byte(b.String())
}

// GrafanaProvider returns the provisioning file of the dashboard
// provider, for Grafana's provisioning/dashboards directory.
func GrafanaProvider(s GrafanaSettings) []byte {
	var b strings.Builder
	b.WriteString("# Grafana dashboard provider for twitchd (written by `twitchd dashboards export`).\n")
	b.WriteString("# Copy dashboards/twitchd.json into the path below on the Grafana host.\n")
	b.WriteString("apiVersion: 1\n\nproviders:\n")
	fmt.Fprintf(&b, "  - name: %s\n    folder: %s\n    type: file\n    disableDeletion: false\n    allowUiUpdates: true\n    updateIntervalSeconds: 30\n",
		yamlString("twitchd"), yamlString(GrafanaFolder))
	fmt.Fprintf(&b, "    options:\n      path: %s\n      foldersFromFilesStructure: false\n", yamlString(s.DashboardsPath))
	return []byte(b.String())
}
