package decode

import "github.com/twitchd/twitchd/pipeline"

// Skip applies the bad-record policy to le: in strict mode it returns le,
// so the first bad record ends decoding; otherwise it counts le in stats
// (keeping the first few as examples) and returns nil, so decoding goes
// on.
func Skip(stats *pipeline.SourceStats, strict bool, le *pipeline.LineError) error {
	if strict {
		return le
	}
	stats.Skip(le)
	return nil
}
