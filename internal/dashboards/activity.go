package dashboards

import (
	"fmt"
	"strings"
	"time"

	"github.com/twitchd/twitchd/internal/schema"
)

// LongRange is the longest time range for which the activity panels read
// the raw per-epoch points; longer ranges read the hourly downsampling
// (schema.RPActivityHourly) that `twitchd influx setup` arranges.
const LongRange = 7 * 24 * time.Hour

// ActivityBuckets says where the activity panels read: the raw per-epoch
// points (where twitchd writes them: the activity bucket of
// `--influx-activity-bucket`, else the events' bucket), and their hourly
// downsampling.
type ActivityBuckets struct {
	Raw string
	// Hourly is empty when there is no downsampling: then every range
	// reads the raw points.
	Hourly string
}

// DefaultActivityBuckets returns where the activity is for an events
// bucket and an activity bucket (empty: none) as `twitchd run` and
// `replay` write it: raw in activityBucket, or in bucket without one; on
// InfluxDB 1.8 ("db/rp") hourly in db/activity_1h, which `twitchd influx
// setup` creates. A 2.x bucket (no "/") has no downsampling.
func DefaultActivityBuckets(bucket, activityBucket string) ActivityBuckets {
	b := ActivityBuckets{Raw: bucket}
	if activityBucket != "" {
		b.Raw = activityBucket
	}
	if db, _, ok := strings.Cut(bucket, "/"); ok {
		b.Hourly = db + "/" + schema.RPActivityHourly
	}
	return b
}

// activityQuery returns the Flux of an activity panel: the mean of field
// per v.windowPeriod for v.subject at v.site, by sensor. A range up to
// LongRange reads the raw epochs; a longer one the hourly means (one per
// hour and channel), whose means per window are unweighted by epochs.
// The bucket is picked in the query itself, from the range the UI passes
// (one from(), no union: Flux 0.65's union of two storage reads sometimes
// returns nothing).
func activityQuery(b ActivityBuckets, field string) string {
	bucket := FluxString(b.Raw)
	var q strings.Builder
	if b.Hourly != "" {
		fmt.Fprintf(&q, "long = int(v: v.timeRangeStop) - int(v: v.timeRangeStart) > int(v: %s)\n", FluxDuration(LongRange))
		bucket = fmt.Sprintf("if long then %s else %s", FluxString(b.Hourly), FluxString(b.Raw))
	}
	fmt.Fprintf(&q, `from(bucket: %s)
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == %q and r.subject == v.subject and r.site == v.site and r._field == %q)
  |> group(columns: ["sensor"])
  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)
  |> keep(columns: ["_time", "_value", "sensor"])
`, bucket, schema.Activity, field)
	return q.String()
}

// activityPanels are the charts of the per-epoch activity features.
func activityPanels(b ActivityBuckets) []Panel {
	return []Panel{
		{
			ID: "activity-acc", Title: "Movement (accelerometer ENMO)", Kind: KindLines, W: 6, H: 3, Series: "sensor",
			Help: "Mean ENMO (acceleration beyond gravity, mg) of the 5-s epochs per point of the chart; ranges over 7 days read hourly means.",
			Flux: activityQuery(b, schema.FieldENMO), YLabel: "ENMO", Unit: " mg",
		},
		{
			ID: "activity-emg", Title: "Muscle activity (EMG RMS)", Kind: KindLines, W: 6, H: 3, Series: "sensor",
			Help: "Mean EMG RMS (mV) of the 5-s epochs per point of the chart; ranges over 7 days read hourly means.",
			Flux: activityQuery(b, schema.FieldRMS), YLabel: "RMS", Unit: " mV",
		},
	}
}
