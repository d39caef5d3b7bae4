package serial

import (
	"sync/atomic"
	"time"

	"github.com/twitchd/twitchd/internal/metrics"
)

// Collect implements metrics.Collector: the connection's bytes,
// connections and losses.
func (c *Conn) Collect(w *metrics.Writer) {
	st := c.Stats()
	w.Counter("twitchd_serial_bytes_total", "Bytes read from the serial device.", float64(st.Bytes))
	w.Counter("twitchd_serial_connects_total", "Times the serial device was opened (the first included).", float64(st.Connects))
	w.Counter("twitchd_serial_losses_total", "Times the serial device was lost (unplugged, hung up, read errors).", float64(st.Losses))
}

// stepCounts counts host clock steps for /metrics, which reads them from
// another goroutine than the Stream's.
type stepCounts struct {
	slewed, segments atomic.Int64
	last             atomic.Int64 // the last step, ns
}

func (c *stepCounts) add(st Step) {
	if st.NewSegment {
		c.segments.Add(1)
	} else {
		c.slewed.Add(1)
	}
	c.last.Store(st.By)
}

// Collect implements metrics.Collector: the host clock steps the stream
// saw, by how they were handled.
func (s *Stream) Collect(w *metrics.Writer) {
	const help = "Steps of the host's wall clock seen in a live stream, by handling: slewed out like drift, or a new segment."
	w.Counter("twitchd_clock_steps_total", help, float64(s.steps.slewed.Load()), "handling", "slewed")
	w.Counter("twitchd_clock_steps_total", help, float64(s.steps.segments.Load()), "handling", "new_segment")
	w.Gauge("twitchd_clock_last_step_seconds", "The last step of the host's wall clock (positive forward), 0 before any.",
		time.Duration(s.steps.last.Load()).Seconds())
}
