package spool

import (
	"fmt"

	"github.com/twitchd/twitchd/internal/metrics"
)

// FullAlarm is the share of MaxBytes at which Check reports the spool as
// nearly full (90 %): the points of a longer outage would be refused.
const FullAlarm = 0.9

// Check returns an error while the spool holds FullAlarm of its MaxBytes
// or more, for /healthz; nil otherwise.
func (s *Spool) Check() error {
	st, max := s.Stats(), s.cfg.MaxBytes
	if max > 0 && float64(st.PendingBytes) >= FullAlarm*float64(max) {
		return fmt.Errorf("spool %d%% full (%d of %d bytes)", st.PendingBytes*100/max, st.PendingBytes, max)
	}
	return nil
}

// Collect implements metrics.Collector.
func (s *Spool) Collect(w *metrics.Writer) {
	st := s.Stats()
	w.Counter("twitchd_spool_points_resent_total", "Spooled points sent to InfluxDB again.", float64(st.Resent))
	w.Counter("twitchd_spool_points_refused_total", "Points the spool refused (full or disk error).", float64(st.Refused))
	w.Counter("twitchd_spool_torn_tails_total", "Segment tails dropped at start-up, torn by a crash.", float64(st.TornTails))
	w.Gauge("twitchd_spool_points", "Points waiting in the spool.", float64(st.Pending))
	w.Gauge("twitchd_spool_bytes", "Bytes the spool takes on disk.", float64(st.PendingBytes))
}
