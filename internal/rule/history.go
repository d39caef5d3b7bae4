package rule

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// History is what the Engine needs to know about a person's earlier
// recordings: it asks once per subject and site, at that pair's first
// event, for what lies in [Query.Start, Query.End). Implementations:
// MemoryHistory here, and the InfluxDB reader in rule/history.
type History interface {
	// Load returns the history of one subject and site. It blocks until
	// done or ctx ends.
	Load(ctx context.Context, q Query) (Past, error)
}

// Query selects one subject and site over a time range.
type Query struct {
	Subject string
	// Site selects the body site; symptoms logged without a site apply to
	// every site of the subject.
	Site string
	// ExcludeSession leaves out the recording being assessed, so replaying
	// a file twice does not count it as its own history.
	ExcludeSession string
	// Start and End bound the range, End excluded.
	Start, End time.Time
}

// PastBout is an exercise bout from an earlier recording.
type PastBout struct {
	Start, End pipeline.Timestamp
	Session    string
	Intensity  string
	PeakRMS    float64 // peak EMG RMS in mV, 0 when unknown
	PeakAcc    float64 // peak dynamic acceleration in g, 0 when unknown
}

// Past is the history of one subject and site.
type Past struct {
	// Bouts are earlier exercise bouts, with their strength proxies.
	Bouts []PastBout
	// Episodes are times at which a twitch episode was under way at rest
	// (any number per day; the Engine counts calendar days).
	Episodes []pipeline.Timestamp
	// Ceased are times of assessments whose status was ceased; the days
	// they fall on do not count towards EpisodeDays.
	Ceased []pipeline.Timestamp
	// Cramps are the start times of detected cramps.
	Cramps []pipeline.Timestamp
	// Symptoms are what the person logged.
	Symptoms []pipeline.Symptom
}

// sortPast puts every list in time order.
func sortPast(p *Past) {
	sort.Slice(p.Bouts, func(i, j int) bool { return p.Bouts[i].Start < p.Bouts[j].Start })
	for _, ts := range [][]pipeline.Timestamp{p.Episodes, p.Ceased, p.Cramps} {
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	}
	sort.Slice(p.Symptoms, func(i, j int) bool { return p.Symptoms[i].Time < p.Symptoms[j].Time })
}

// MemoryHistory is a History held in memory, for tests of the rule alone
// and for callers that assess several recordings in one process. The zero
// value is empty and ready; it is safe for concurrent use.
type MemoryHistory struct {
	mu   sync.Mutex
	data map[[2]string]*Past
}

func (h *MemoryHistory) at(subject, site string) *Past {
	if h.data == nil {
		h.data = map[[2]string]*Past{}
	}
	k := [2]string{subject, site}
	p := h.data[k]
	if p == nil {
		p = &Past{}
		h.data[k] = p
	}
	return p
}

// AddBout records a bout of subject at site.
func (h *MemoryHistory) AddBout(subject, site string, b PastBout) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.at(subject, site)
	p.Bouts = append(p.Bouts, b)
}

// AddEpisode records that a twitch episode was under way at t.
func (h *MemoryHistory) AddEpisode(subject, site string, t pipeline.Timestamp) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.at(subject, site)
	p.Episodes = append(p.Episodes, t)
}

// AddCeased records a ceased assessment at t.
func (h *MemoryHistory) AddCeased(subject, site string, t pipeline.Timestamp) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.at(subject, site)
	p.Ceased = append(p.Ceased, t)
}

// AddCramp records a detected cramp starting at t.
func (h *MemoryHistory) AddCramp(subject, site string, t pipeline.Timestamp) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.at(subject, site)
	p.Cramps = append(p.Cramps, t)
}

// AddSymptom records a logged symptom; an empty Site applies to every site.
func (h *MemoryHistory) AddSymptom(s pipeline.Symptom) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.at(s.Subject, s.Site)
	p.Symptoms = append(p.Symptoms, s)
}

// Load implements History.
func (h *MemoryHistory) Load(ctx context.Context, q Query) (Past, error) {
	if err := ctx.Err(); err != nil {
		return Past{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	start, end := pipeline.Timestamp(q.Start.UnixNano()), pipeline.Timestamp(q.End.UnixNano())
	in := func(t pipeline.Timestamp) bool { return t >= start && t < end }
	var out Past
	sites := []string{q.Site}
	if q.Site != "" {
		sites = append(sites, "")
	}
	for _, site := range sites {
		p := h.data[[2]string{q.Subject, site}]
		if p == nil {
			continue
		}
		for _, s := range p.Symptoms {
			if in(s.Time) {
				out.Symptoms = append(out.Symptoms, s)
			}
		}
		if site != q.Site {
			continue
		}
		for _, b := range p.Bouts {
			if in(b.Start) && (q.ExcludeSession == "" || b.Session != q.ExcludeSession) {
				out.Bouts = append(out.Bouts, b)
			}
		}
		out.Episodes = filterTimes(p.Episodes, in)
		out.Ceased = filterTimes(p.Ceased, in)
		out.Cramps = filterTimes(p.Cramps, in)
	}
	sortPast(&out)
	return out, nil
}

func filterTimes(ts []pipeline.Timestamp, keep func(pipeline.Timestamp) bool) []pipeline.Timestamp {
	var out []pipeline.Timestamp
	for _, t := range ts {
		if keep(t) {
			out = append(out, t)
		}
	}
	return out
}
