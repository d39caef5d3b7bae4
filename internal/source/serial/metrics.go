package serial

import "github.com/twitchd/twitchd/internal/metrics"

// Collect implements metrics.Collector: the connection's bytes,
// connections and losses.
func (c *Conn) Collect(w *metrics.Writer) {
	st := c.Stats()
	w.Counter("twitchd_serial_bytes_total", "Bytes read from the serial device.", float64(st.Bytes))
	w.Counter("twitchd_serial_connects_total", "Times the serial device was opened (the first included).", float64(st.Connects))
	w.Counter("twitchd_serial_losses_total", "Times the serial device was lost (unplugged, hung up, read errors).", float64(st.Losses))
}
