package rule

import "github.com/twitchd/twitchd/pipeline"

// EventEnd returns when ev ends: the end of a bout, rest, twitch, cramp or
// summary, the time of anything else. Detectors emit events when they
// end, so sorting by EventEnd replays events in the order they arrived.
func EventEnd(ev pipeline.Event) pipeline.Timestamp {
	switch v := ev.(type) {
	case *pipeline.Bout:
		return v.End
	case *pipeline.Rest:
		return v.End
	case *pipeline.Twitch:
		return v.End
	case *pipeline.Cramp:
		return v.End
	case *pipeline.Summary:
		return v.End
	}
	return ev.At()
}

// EventTags returns the subject, site and session of the events the rule
// reads or writes (bouts, rests, twitches, cramps, symptoms, assessments,
// summaries); ok is false for any other event.
func EventTags(ev pipeline.Event) (tags pipeline.Tags, ok bool) {
	switch v := ev.(type) {
	case *pipeline.Twitch:
		return v.Tags, true
	case *pipeline.Bout:
		return v.Tags, true
	case *pipeline.Rest:
		return v.Tags, true
	case *pipeline.Cramp:
		return v.Tags, true
	case *pipeline.Symptom:
		return v.Tags, true
	case *pipeline.Assessment:
		return v.Tags, true
	case *pipeline.Summary:
		return v.Tags, true
	}
	return pipeline.Tags{}, false
}
