// Package metrics writes counters and gauges in the Prometheus text
// exposition format (version 0.0.4), by hand: HELP and TYPE lines, then
// the samples.
//
// Every component that counts something (the InfluxDB sink, the spool,
// a serial source, an ingest run) implements Collector and describes its
// own metrics there, named twitchd_<thing>_<unit>[_total]; the program
// only mounts them (internal/health serves a Collector at /metrics).
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Collector writes its metrics to w. Collect is called from the HTTP
// server's goroutine, so whatever it reads must be safe for that.
type Collector interface {
	Collect(w *Writer)
}

// Func adapts a function to Collector.
type Func func(w *Writer)

// Collect calls f.
func (f Func) Collect(w *Writer) { f(w) }

// Collectors is a Collector that calls each of its non-nil elements in order.
type Collectors []Collector

// Collect calls every collector.
func (cs Collectors) Collect(w *Writer) {
	for _, c := range cs {
		if c != nil {
			c.Collect(w)
		}
	}
}

// Writer writes metrics in the Prometheus text format. Each metric's
// HELP and TYPE lines are written before its first sample; the samples of
// one metric must be written one after the other.
type Writer struct {
	w    *bufio.Writer
	last string
}

// NewWriter returns a Writer on w; call Flush when done.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w)} }

// Flush writes what is buffered.
func (w *Writer) Flush() error { return w.w.Flush() }

// Counter writes a sample of a counter; labels are name, value pairs.
func (w *Writer) Counter(name, help string, v float64, labels ...string) {
	w.sample(name, "counter", help, name, v, labels)
}

// Gauge writes a sample of a gauge; labels are name, value pairs.
func (w *Writer) Gauge(name, help string, v float64, labels ...string) {
	w.sample(name, "gauge", help, name, v, labels)
}

// Summary writes a summary without quantiles: its sum and count.
func (w *Writer) Summary(name, help string, sum float64, count int64, labels ...string) {
	w.sample(name, "summary", help, name+"_sum", sum, labels)
	w.sample(name, "summary", help, name+"_count", float64(count), labels)
}

// Histogram writes a histogram: for each upper bound of bounds
// (ascending; +Inf is added) the number of observations at or below it,
// then their sum and count. counts holds the observations per bucket, not
// cumulated: counts[i] fell in (bounds[i-1], bounds[i]], and the element
// after the last bound (if any) those above it.
func (w *Writer) Histogram(name, help string, bounds []float64, counts []int64, sum float64, labels ...string) {
	le := make([]string, len(labels)+2)
	copy(le, labels)
	le[len(labels)] = "le"
	var cum int64
	for i, b := range bounds {
		if i < len(counts) {
			cum += counts[i]
		}
		le[len(labels)+1] = formatValue(b)
		w.sample(name, "histogram", help, name+"_bucket", float64(cum), le)
	}
	for i := len(bounds); i < len(counts); i++ {
		cum += counts[i]
	}
	le[len(labels)+1] = "+Inf"
	w.sample(name, "histogram", help, name+"_bucket", float64(cum), le)
	w.sample(name, "histogram", help, name+"_sum", sum, labels)
	w.sample(name, "histogram", help, name+"_count", float64(cum), labels)
}

// sample writes one line; labels are name, value pairs.
func (w *Writer) sample(family, typ, help, name string, v float64, labels []string) {
	if family != w.last {
		fmt.Fprintf(w.w, "# HELP %s %s\n# TYPE %s %s\n", family, escapeHelp(help), family, typ)
		w.last = family
	}
	w.w.WriteString(name)
	if len(labels) >= 2 {
		w.w.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				w.w.WriteByte(',')
			}
			fmt.Fprintf(w.w, "%s=\"%s\"", labels[i], escapeLabel(labels[i+1]))
		}
		w.w.WriteByte('}')
	}
	w.w.WriteByte(' ')
	w.w.WriteString(formatValue(v))
	w.w.WriteByte('\n')
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeLabel(s string) string { return labelEscaper.Replace(s) }
