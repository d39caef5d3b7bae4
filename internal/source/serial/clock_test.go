package serial

import (
	"testing"
	"time"
)

func TestClockReplay(t *testing.T) {
	start := time.Unix(100, 0)
	c := NewClock(250, false, start)
	for k := range 500 {
		if got, want := c.Stamp(c.Index()), start.UnixNano()+int64(k)*4e6; got != want {
			t.Fatalf("sample %d at %d, want %d", k, got, want)
		}
	}
	c.Skip(10)
	if got, want := c.Stamp(c.Index()), start.UnixNano()+510*4e6; got != want {
		t.Fatalf("after skip: %d, want %d", got, want)
	}
}

func TestClockAnchorsOnFirstArrival(t *testing.T) {
	c := NewClock(100, true, time.Time{})
	// Five samples arrive together at host time 1e12: the last is stamped then.
	var ts []int64
	var dev int64
	for range 5 {
		dev = c.Index()
		ts = append(ts, c.Stamp(dev))
	}
	shift, lost := c.Observe(1e12, dev, true)
	if lost != 0 {
		t.Fatalf("lost %d on first arrival", lost)
	}
	if got := ts[4] + shift; got != 1e12 {
		t.Fatalf("last sample at %d after shift, want 1e12", got)
	}
	if got := ts[0] + shift; got != 1e12-40e6 {
		t.Fatalf("first sample at %d, want 40 ms earlier", got)
	}
}

func TestClockGapCountsLostSamples(t *testing.T) {
	c := NewClock(100, true, time.Time{})
	dev := c.Index()
	c.Stamp(dev)
	host := int64(5e12)
	c.Observe(host, dev, true)
	// The next sample arrives 3 s later instead of 10 ms: 299 samples missing.
	dev = c.Index()
	before := c.Stamp(dev)
	shift, lost := c.Observe(host+3e9, dev, true)
	if lost != 299 || shift != 299*10e6 {
		t.Fatalf("gap: shift %d lost %d, want 2.99 s and 299", shift, lost)
	}
	if before+shift != host+3e9 {
		t.Fatalf("sample after gap at %d, want %d", before+shift, host+3e9)
	}
	if next := c.Stamp(c.Index()); next != host+3e9+10e6 {
		t.Fatalf("next sample at %d, want 10 ms later", next)
	}
}

func TestClockDriftCorrectionIsSlowAndBounded(t *testing.T) {
	// The device runs 1 % slow (99 samples per host second at nominal 100 Hz):
	// arrivals get later and later; the correction slews at most MaxSlew.
	c := NewClock(100, true, time.Time{})
	host := int64(1e12)
	var last int64
	var dev int64
	for k := 0; k < 99*120; k++ {
		dev = c.Index()
		ts := c.Stamp(dev)
		if last != 0 && (ts-last < int64(10e6*(1-DefaultMaxSlew))-1 || ts-last > int64(10e6*(1+DefaultMaxSlew))+1) {
			t.Fatalf("sample %d spacing %d ns outside nominal ±%g", k, ts-last, DefaultMaxSlew)
		}
		last = ts
		at := host + int64(float64(k)*1e9/99)
		if _, lost := c.Observe(at, dev, true); lost != 0 {
			t.Fatalf("sample %d: drift taken for a gap", k)
		}
	}
	if s := c.Slew(); s < 0.005 || s > 0.015 {
		t.Fatalf("slew %g, want about 0.01", s)
	}
	// After two minutes the timestamps lag the host by about TimeConstant ×
	// 1 % = 0.3 s, not the 1.2 s an uncorrected clock would.
	n := float64(99*120 - 1)
	lag := host + int64(n*1e9/99) - last
	if lag < 0 || lag > int64(500*time.Millisecond) {
		t.Fatalf("lag after 2 min %v", time.Duration(lag))
	}
}
