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
	// Site selects the body site. Symptoms logged without a site apply to
	// every site; bouts are returned for every site of the subject (with
	// their Site), since activity anywhere is activity for the rule.
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
	// Site is the body site it was recorded at; empty means the queried one.
	Site      string
	Intensity string
	PeakRMS   float64 // peak EMG RMS in mV, 0 when unknown
	PeakAcc   float64 // peak dynamic acceleration in g, 0 when unknown
}

// PastEpisode is a time at which a twitch episode was under way at rest
// in an earlier recording (any number per episode; the Engine counts
// calendar days and links spells by time). Whether it was at rest
// without activity follows from the bouts around it.
type PastEpisode struct {
	Time    pipeline.Timestamp
	Session string
}

// PastFinal is the last assessment of an earlier recording.
type PastFinal struct {
	Time    pipeline.Timestamp
	Session string
	Status  Status
}

// Past is the history of one subject and site.
type Past struct {
	// Bouts are earlier exercise bouts of any intensity, at every site of
	// the subject, with their strength proxies.
	Bouts []PastBout
	// Episodes are times at which twitch episodes were under way at rest.
	Episodes []PastEpisode
	// Finals are the last assessment of each earlier recording: the
	// episodes of a recording whose last status was ceased do not count
	// towards EpisodeDays, and a spell of twitching does not reach back
	// across it.
	Finals []PastFinal
	// Cramps are the start times of detected cramps.
	Cramps []pipeline.Timestamp
	// Symptoms are what the person logged.
	Symptoms []pipeline.Symptom
}

// SortPast puts every list of p in time order.
func SortPast(p *Past) {
	sort.Slice(p.Bouts, func(i, j int) bool { return p.Bouts[i].Start < p.Bouts[j].Start })
	sort.Slice(p.Episodes, func(i, j int) bool { return p.Episodes[i].Time < p.Episodes[j].Time })
	sort.Slice(p.Finals, func(i, j int) bool { return p.Finals[i].Time < p.Finals[j].Time })
	sort.Slice(p.Cramps, func(i, j int) bool { return p.Cramps[i] < p.Cramps[j] })
	sort.SliceStable(p.Symptoms, func(i, j int) bool { return p.Symptoms[i].Time < p.Symptoms[j].Time })
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
	if b.Site == "" {
		b.Site = site
	}
	p := h.at(subject, site)
	p.Bouts = append(p.Bouts, b)
}

// AddEpisode records that a twitch episode was under way.
func (h *MemoryHistory) AddEpisode(subject, site string, e PastEpisode) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.at(subject, site)
	p.Episodes = append(p.Episodes, e)
}

// AddFinal records the last assessment of a recording.
func (h *MemoryHistory) AddFinal(subject, site string, f PastFinal) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.at(subject, site)
	p.Finals = append(p.Finals, f)
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

// Load implements History: q.Subject's bouts at every site, the rest
// at q.Site, symptoms at q.Site and without a site.
func (h *MemoryHistory) Load(ctx context.Context, q Query) (Past, error) {
	if err := ctx.Err(); err != nil {
		return Past{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	start, end := pipeline.Timestamp(q.Start.UnixNano()), pipeline.Timestamp(q.End.UnixNano())
	in := func(t pipeline.Timestamp) bool { return t >= start && t < end }
	other := func(session string) bool { return q.ExcludeSession == "" || session != q.ExcludeSession }
	var out Past
	for k, p := range h.data {
		if k[0] != q.Subject {
			continue
		}
		for _, b := range p.Bouts {
			if in(b.Start) && other(b.Session) {
				out.Bouts = append(out.Bouts, b)
			}
		}
		for _, s := range p.Symptoms {
			if in(s.Time) && (k[1] == "" || k[1] == q.Site || q.Site == "") {
				out.Symptoms = append(out.Symptoms, s)
			}
		}
		if k[1] != q.Site {
			continue
		}
		for _, e := range p.Episodes {
			if in(e.Time) && other(e.Session) {
				out.Episodes = append(out.Episodes, e)
			}
		}
		for _, f := range p.Finals {
			if in(f.Time) && other(f.Session) {
				out.Finals = append(out.Finals, f)
			}
		}
		for _, t := range p.Cramps {
			if in(t) {
				out.Cramps = append(out.Cramps, t)
			}
		}
	}
	SortPast(&out)
	return out, nil
}
