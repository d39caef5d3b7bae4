package loadgen

import (
	"context"
	"fmt"

	"github.com/twitchd/twitchd/internal/influxsetup"
)

// SeriesCardinality returns the number of series in db, all retention
// policies together, as InfluxDB's index estimates it (SHOW SERIES
// CARDINALITY: exact for small counts, HyperLogLog beyond). SHOW SERIES
// EXACT CARDINALITY would count the default retention policy only.
func SeriesCardinality(ctx context.Context, q influxsetup.InfluxQL, db string) (int64, error) {
	series, err := q.InfluxQL(ctx, db, fmt.Sprintf("SHOW SERIES CARDINALITY ON %q", db))
	if err != nil {
		return 0, err
	}
	var n int64
	for _, s := range series {
		for _, v := range s.Values {
			if f, ok := v[len(v)-1].(float64); ok {
				n += int64(f)
			}
		}
	}
	return n, nil
}
