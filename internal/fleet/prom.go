package fleet

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Metrics are the samples of a Prometheus text page, keyed by the
// metric's name and labels as written (`name{a="b"}`).
type Metrics map[string]float64

// ParseMetrics reads a page in the Prometheus text format (0.0.4),
// skipping comments. Timestamps after the value are not supported.
func ParseMetrics(r io.Reader) (Metrics, error) {
	m := Metrics{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		if i < 0 {
			return nil, fmt.Errorf("metrics line %d: no value: %q", n, l)
		}
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d: %w", n, err)
		}
		m[l[:i]] = v
	}
	return m, sc.Err()
}

// Scrape gets and parses the page at url.
func Scrape(ctx context.Context, c *http.Client, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	m, err := ParseMetrics(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return m, nil
}

// Sub returns m minus earlier, sample by sample (what counters and
// histograms gained between two scrapes); samples missing from earlier
// count from 0.
func (m Metrics) Sub(earlier Metrics) Metrics {
	d := make(Metrics, len(m))
	for k, v := range m {
		d[k] = v - earlier[k]
	}
	return d
}

// Add adds other to m, sample by sample (to pool the pages of several
// processes).
func (m Metrics) Add(other Metrics) {
	for k, v := range other {
		m[k] += v
	}
}

// Histogram is a cumulative histogram: Counts[i] observations at or
// below Bounds[i]; the last bound is +Inf.
type Histogram struct {
	Bounds []float64
	Counts []float64
}

// Histogram returns the histogram name (without labels) of m, its
// buckets sorted by bound; ok is false when m has none.
func (m Metrics) Histogram(name string) (h Histogram, ok bool) {
	prefix := name + `_bucket{le="`
	type bucket struct{ le, n float64 }
	var bs []bucket
	for k, v := range m {
		rest, found := strings.CutPrefix(k, prefix)
		if !found {
			continue
		}
		le, err := strconv.ParseFloat(strings.TrimSuffix(rest, `"}`), 64)
		if err != nil {
			continue
		}
		bs = append(bs, bucket{le, v})
	}
	if len(bs) == 0 {
		return h, false
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	for _, b := range bs {
		h.Bounds = append(h.Bounds, b.le)
		h.Counts = append(h.Counts, b.n)
	}
	return h, true
}

// Total is the number of observations.
func (h Histogram) Total() float64 {
	if len(h.Counts) == 0 {
		return 0
	}
	return h.Counts[len(h.Counts)-1]
}

// Quantile estimates the q-quantile (0 < q < 1) as Prometheus's
// histogram_quantile does: linearly within the bucket that holds it,
// from 0 for the first bucket; in the +Inf bucket it is the last finite
// bound. NaN when the histogram is empty.
func (h Histogram) Quantile(q float64) float64 {
	total := h.Total()
	if total <= 0 || len(h.Bounds) < 2 {
		return math.NaN()
	}
	rank := q * total
	i := sort.Search(len(h.Counts), func(i int) bool { return h.Counts[i] >= rank })
	if i >= len(h.Bounds)-1 && math.IsInf(h.Bounds[len(h.Bounds)-1], 1) {
		return h.Bounds[len(h.Bounds)-2]
	}
	lo, below := 0.0, 0.0
	if i > 0 {
		lo, below = h.Bounds[i-1], h.Counts[i-1]
	}
	in := h.Counts[i] - below
	if in <= 0 {
		return h.Bounds[i]
	}
	return lo + (h.Bounds[i]-lo)*(rank-below)/in
}
