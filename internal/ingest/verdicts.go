package ingest

import (
	"context"

	"github.com/twitchd/twitchd/pipeline"
)

// verdicts keeps the latest assessment of each subject and site of a
// stream, for its result.
type verdicts struct {
	order []string
	last  map[string]*pipeline.Assessment
}

// Write keeps assessments.
func (v *verdicts) Write(ev pipeline.Event) error {
	a, ok := ev.(*pipeline.Assessment)
	if !ok {
		return nil
	}
	if v.last == nil {
		v.last = map[string]*pipeline.Assessment{}
	}
	k := a.Subject + "/" + a.Site
	if _, seen := v.last[k]; !seen {
		v.order = append(v.order, k)
	}
	v.last[k] = a
	return nil
}

// Flush does nothing.
func (v *verdicts) Flush(context.Context) error { return nil }

// list returns the latest assessments in the order first seen.
func (v *verdicts) list() []*pipeline.Assessment {
	out := make([]*pipeline.Assessment, len(v.order))
	for i, k := range v.order {
		out[i] = v.last[k]
	}
	return out
}
