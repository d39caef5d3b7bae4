package influx

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/influxtest"
	"github.com/twitchd/twitchd/pipeline"
)

// TestCircuitSpoolsAtOnce stops the server under a sink with an overflow:
// the first failed write opens the circuit and its batch, and every
// batch after it, goes to the overflow at once, without a retry, however
// long MaxRetryTime is. Once the server is back a probe finds it
// answering, the circuit closes and new points are written again.
func TestCircuitSpoolsAtOnce(t *testing.T) {
	srv := influxtest.Shared(t)
	sp := &spool{}
	s := newSink(t, fastConfig(srv).SetOverflow(sp).SetMaxRetryTime(time.Hour).SetProbeInterval(100*time.Millisecond))
	hour := pipeline.Timestamp(time.Hour)
	before, during, after := sampleEvents(ids, t0), sampleEvents(ids, t0+hour), sampleEvents(ids, t0+2*hour)
	writeAll(t, s, before)
	if err := flush(t, s); err != nil {
		t.Fatal(err)
	}

	srv.Stop(t)
	writeAll(t, s, during[:5])
	if err := flush(t, s); err != nil {
		t.Fatalf("Flush during the outage: %v (the overflow took the points)", err)
	}
	st := s.Stats()
	if st.CircuitOpens != 1 || st.CircuitOpenSince.IsZero() || st.Retries != 0 || sp.n[ReasonOutage] != 5 {
		t.Fatalf("after the first failed write: %d opens, open since %v, %d retries, overflow %v; want the circuit open, no retry, 5 points spooled",
			st.CircuitOpens, st.CircuitOpenSince, st.Retries, sp.n)
	}
	requests := st.Requests
	writeAll(t, s, during[5:])
	if err := flush(t, s); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Requests != requests || sp.n[ReasonOutage] != len(during) {
		t.Fatalf("while the circuit is open: %d write requests more, overflow %v; want none and all %d points spooled",
			st.Requests-requests, sp.n, len(during))
	}
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), "write failing since") {
		t.Errorf("Check during the outage: %v", err)
	}

	srv.Restart(t)
	time.Sleep(150 * time.Millisecond) // a probe is due
	writeAll(t, s, after)
	if err := flush(t, s); err != nil {
		t.Fatal(err)
	}
	st = s.Stats()
	checkStats(t, st, int64(len(before)+len(after)), 0, 0, 0, int64(len(during)))
	if !st.CircuitOpenSince.IsZero() || st.Probes == 0 {
		t.Errorf("after the server came back: open since %v, %d probes; want closed after a probe", st.CircuitOpenSince, st.Probes)
	}
	if err := s.Check(); err != nil {
		t.Errorf("Check after the server came back: %v", err)
	}
	if got, want := string(sp.lines[ReasonOutage]), string(encodeAll(t, during)); got != want {
		t.Errorf("overflow got\n%s\nwant\n%s", got, want)
	}
	comparePoints(t, fetch(t, srv, ""), expected(t, encodeAll(t, append(before, after...))))
}

// TestConfigErrorsAreNotRetried sends writes that can never succeed as
// configured: a certificate from an unknown CA (a real TLS server), a
// server that speaks plain HTTP at an https URL, refused credentials
// (401, 403). Each is reported as a configuration error saying what to
// fix, after exactly one request: later batches go to the overflow
// without one, and Check reports it.
func TestConfigErrorsAreNotRetried(t *testing.T) {
	answer := func(code int, msg string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"code":%q,"message":%q}`, http.StatusText(code), msg)
		})
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	cases := []struct {
		name string
		url  func(t *testing.T) string
		want string
	}{
		{"unknown CA", func(t *testing.T) string {
			srv := httptest.NewTLSServer(ok)
			t.Cleanup(srv.Close)
			return srv.URL
		}, "--influx-ca"},
		{"plain HTTP at an https URL", func(t *testing.T) string {
			srv := httptest.NewServer(ok)
			t.Cleanup(srv.Close)
			return strings.Replace(srv.URL, "http://", "https://", 1)
		}, "does not speak TLS"},
		{"401", func(t *testing.T) string {
			srv := httptest.NewServer(answer(401, "authorization failed"))
			t.Cleanup(srv.Close)
			return srv.URL
		}, "refused the token"},
		{"403", func(t *testing.T) string {
			srv := httptest.NewServer(answer(403, "insufficient permissions"))
			t.Cleanup(srv.Close)
			return srv.URL
		}, "may not write to bucket twitchd/autogen"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sp := &spool{}
			s := newSink(t, NewConfig(c.url(t), "twitchd/autogen").SetFlushInterval(20*time.Millisecond).
				SetBackoff(time.Millisecond, time.Millisecond).SetOverflow(sp))
			evs := sampleEvents(ids, t0)
			writeRounds(t, s, evs, 3)
			st := s.Stats()
			if !errors.Is(st.ConfigErr, ErrConfig) || !strings.Contains(st.ConfigErr.Error(), c.want) {
				t.Fatalf("config error %v, want one saying %q", st.ConfigErr, c.want)
			}
			if st.Requests != 1 || st.Retries != 0 || sp.n[ReasonConfig] != 3*len(evs) {
				t.Fatalf("%d requests, %d retries, overflow %v: want one request and every point in the overflow", st.Requests, st.Retries, sp.n)
			}
			if err := s.Check(); !errors.Is(err, ErrConfig) {
				t.Fatalf("Check = %v, want the configuration error", err)
			}
		})
	}
}

// TestAuthenticationRefusedByInfluxDB writes to a real influxd with
// authentication on, with a wrong password: a configuration error, not
// an outage.
func TestAuthenticationRefusedByInfluxDB(t *testing.T) {
	srv := influxtest.StartAuth(t)
	sp := &spool{}
	s := newSink(t, fastConfig(srv).SetToken(influxtest.AdminUser+":wrong").SetOverflow(sp))
	evs := sampleEvents(ids, t0)
	writeAll(t, s, evs)
	if err := flush(t, s); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if !errors.Is(st.ConfigErr, ErrConfig) || !strings.Contains(st.ConfigErr.Error(), "401") || sp.n[ReasonConfig] != len(evs) {
		t.Fatalf("config error %v, overflow %v", st.ConfigErr, sp.n)
	}
	// The right password writes.
	good := newSink(t, fastConfig(srv).SetToken(srv.Admin))
	writeAll(t, good, evs)
	if err := flush(t, good); err != nil {
		t.Fatalf("with the admin's password: %v", err)
	}
	comparePoints(t, fetch(t, srv, ""), expected(t, encodeAll(t, evs)))
}

// TestProbeDoesNotWaitLong: while the circuit is open and the server
// accepts connections without answering, a probe gives up within
// probeTimeout, so batches keep going to the overflow.
func TestProbeDoesNotWaitLong(t *testing.T) {
	sp := &spool{}
	s := newSink(t, NewConfig(silent(t), "twitchd/autogen").SetFlushInterval(20*time.Millisecond).
		SetHTTPTimeout(300*time.Millisecond).SetProbeInterval(10*time.Millisecond).SetOverflow(sp))
	evs := sampleEvents(ids, t0)
	writeRounds(t, s, evs, 3)
	st := s.Stats()
	if st.CircuitOpens != 1 || sp.n[ReasonOutage] != 3*len(evs) || st.Failed != 0 {
		t.Fatalf("%d opens, overflow %v, %v", st.CircuitOpens, sp.n, st)
	}
}

// writeRounds writes evs n times, flushing after each, and fails t when
// a flush reports a loss (the tests' overflows take every point).
func writeRounds(t *testing.T, s *Sink, evs []pipeline.Event, n int) {
	t.Helper()
	for round := 0; round < n; round++ {
		writeAll(t, s, evs)
		if err := flush(t, s); err != nil {
			t.Fatal(err)
		}
	}
}
