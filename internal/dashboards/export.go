package dashboards

import (
	"fmt"
	"os"
	"path/filepath"
)

// Export formats.
const (
	FormatInfluxDB2 = "influxdb2"
	FormatGrafana   = "grafana"
)

// Files written by Export, relative to its directory.
const (
	TemplateFile          = "twitchd-influxdb2.json"
	GrafanaDashboardFile  = "grafana/dashboards/twitchd.json"
	GrafanaDataSourceFile = "grafana/provisioning/datasources/twitchd.yaml"
	GrafanaProviderFile   = "grafana/provisioning/dashboards/twitchd.yaml"
)

// Export writes d in format (FormatInfluxDB2 or FormatGrafana) under dir,
// creating directories as needed, and returns the paths written. s is
// used by the Grafana provisioning files only.
func Export(d *Dashboard, format, dir string, s GrafanaSettings) ([]string, error) {
	files := map[string][]byte{}
	var order []string
	add := func(name string, b []byte) {
		files[name] = b
		order = append(order, name)
	}
	switch format {
	case FormatInfluxDB2:
		b, err := Template(d)
		if err != nil {
			return nil, err
		}
		add(TemplateFile, append(b, '\n'))
	case FormatGrafana:
		b, err := GrafanaDashboard(d)
		if err != nil {
			return nil, err
		}
		add(GrafanaDashboardFile, append(b, '\n'))
		add(GrafanaDataSourceFile, GrafanaDataSource(s))
		add(GrafanaProviderFile, GrafanaProvider(s))
	default:
		return nil, fmt.Errorf("dashboards: unknown format %q (want %s or %s)", format, FormatInfluxDB2, FormatGrafana)
	}
	var paths []string
	for _, name := range order {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return paths, fmt.Errorf("dashboards: %w", err)
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return paths, fmt.Errorf("dashboards: %w", err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
