package influx

import (
	"fmt"
	"time"

	"github.com/twitchd/twitchd/internal/metrics"
)

// Check returns an error after a configuration error (ConfigErr) and
// while writes are failing (the last write request got no answer, a 5xx
// or 429, or was refused), for /healthz; nil otherwise.
func (s *Sink) Check() error {
	st := s.Stats()
	if st.ConfigErr != nil {
		return st.ConfigErr
	}
	if st.Healthy() {
		return nil
	}
	return fmt.Errorf("influxdb: write failing since %s: %v", st.LastFailure.UTC().Format(time.RFC3339), st.LastFailureErr)
}

// Collect implements metrics.Collector: what happened to every point.
func (s *Sink) Collect(w *metrics.Writer) {
	st := s.Stats()
	w.Counter("twitchd_points_total", "Points given to the InfluxDB sink.", float64(st.Points))
	w.Counter("twitchd_points_written_total", "Points InfluxDB acknowledged.", float64(st.Written))
	w.Counter("twitchd_points_rejected_total", "Points InfluxDB refused as bad.", float64(st.Rejected))
	w.Counter("twitchd_points_spooled_total", "Points handed to the on-disk spool.", float64(st.Overflowed))
	w.Counter("twitchd_points_failed_total", "Points given up after retries that no spool took.", float64(st.Failed))
	w.Counter("twitchd_points_dropped_total", "Points dropped on a full queue that no spool took.", float64(st.Dropped))
	w.Gauge("twitchd_points_queued", "Points waiting in the sink's queue.", float64(st.Queued))
	w.Counter("twitchd_write_requests_total", "Write requests sent to InfluxDB.", float64(st.Requests))
	w.Counter("twitchd_write_retries_total", "Write requests repeated after a failure.", float64(st.Retries))
	w.Histogram("twitchd_write_latency_seconds", "Time from queueing a point to InfluxDB acknowledging it.",
		LatencyBuckets[:], st.LatencyHist[:], st.LatencySum.Seconds())
	w.Gauge("twitchd_write_latency_max_seconds", "Longest such time so far.", st.LatencyMax.Seconds())
	open, cfg := 0.0, 0.0
	if !st.CircuitOpenSince.IsZero() {
		open = 1
	}
	if st.ConfigErr != nil {
		cfg = 1
	}
	w.Gauge("twitchd_influx_circuit_open", "1 while writes failed and new points go straight to the spool.", open)
	w.Counter("twitchd_influx_circuit_opens_total", "Times a failed write opened the circuit.", float64(st.CircuitOpens))
	w.Counter("twitchd_influx_probes_total", "Pings sent to InfluxDB while the circuit was open.", float64(st.Probes))
	w.Gauge("twitchd_influx_config_error", "1 once InfluxDB refused the credentials or its certificate: nothing is written until a restart.", cfg)
}
