package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
)

// parseDuration reads a Go duration ("90s", "1h30m") that may also hold
// days ("14d", "1d12h").
func parseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	var days time.Duration
	if i := strings.IndexByte(in, 'd'); i > 0 {
		n, err := strconv.Atoi(in[:i])
		if err != nil {
			return 0, fmt.Errorf("%q: want a duration such as \"10s\", \"5m\" or \"14d\"", s)
		}
		days, in = time.Duration(n)*24*time.Hour, in[i+1:]
		if in == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(in)
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as \"10s\", \"5m\" or \"14d\"", s)
	}
	return days + d, nil
}

// formatDuration writes d as parseDuration reads it, shortly: "14d",
// "1d12h", "5m", "1h30m", "150ms".
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	const day = 24 * time.Hour
	out := ""
	if d >= day && d%time.Hour == 0 {
		out, d = fmt.Sprintf("%dd", d/day), d%day
		if d == 0 {
			return out
		}
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return out + s
}

// formatSize writes n bytes with the largest binary unit that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.name)
		}
	}
	return strconv.FormatInt(n, 10)
}

// quote writes s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// formatValue writes v, a value of kind kd, as TOML.
func formatValue(kd kind, v any) string {
	switch kd {
	case kString:
		return quote(v.(string))
	case kBool:
		return strconv.FormatBool(v.(bool))
	case kFloat:
		return strconv.FormatFloat(v.(float64), 'g', -1, 64)
	case kInt:
		return fmt.Sprint(v)
	case kDuration:
		return quote(formatDuration(v.(time.Duration)))
	case kSize:
		return quote(formatSize(v.(int64)))
	case kStrings:
		parts := make([]string, 0)
		for _, s := range v.([]string) {
			parts = append(parts, quote(s))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case kTime:
		t := v.(time.Time)
		if t.IsZero() {
			return `""`
		}
		return quote(t.Format(time.RFC3339Nano))
	case kLocation:
		loc := v.(*time.Location)
		if loc == nil {
			return `"UTC"`
		}
		return quote(loc.String())
	case kMappings:
		m := v.(map[string]decode.Mapping)
		cols := make([]string, 0, len(m))
		for c := range m {
			cols = append(cols, c)
		}
		sort.Strings(cols)
		parts := make([]string, len(cols))
		for i, c := range cols {
			parts[i] = quote(c) + " = " + quote(m[c].String())
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	panic("config: unknown kind")
}
