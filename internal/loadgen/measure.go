package loadgen

import (
	"context"
	"fmt"

	"github.com/twitchd/twitchd/internal/influxsetup"
)

// SeriesCardinality returns the exact number of series in db, all
// retention policies together (SHOW SERIES EXACT CARDINALITY).
func SeriesCardinality(ctx context.Context, q influxsetup.InfluxQL, db string) (int64, error) {
	series, err := q.InfluxQL(ctx, db, fmt.Sprintf("SHOW SERIES EXACT CARDINALITY ON %q", db))
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
