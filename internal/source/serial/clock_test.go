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
	shift, lost, _ := c.Observe(ht(1e12), dev, true)
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
	c.Observe(ht(host), dev, true)
	// The next sample arrives 3 s later instead of 10 ms: 299 samples missing.
	dev = c.Index()
	before := c.Stamp(dev)
	shift, lost, _ := c.Observe(ht(host+3e9), dev, true)
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
		if _, lost, _ := c.Observe(ht(at), dev, true); lost != 0 {
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

// ht is a host time whose wall and monotonic clocks agree.
func ht(ns int64) HostTime { return HostTime{Wall: ns, Mono: ns} }

// stepRun feeds a 100 Hz index clock samples arriving on time at a host
// whose wall clock is stepped by step after 10 s, for total seconds, and
// returns every timestamp, the host wall time each sample arrived at,
// and the steps the clock reported.
func stepRun(t *testing.T, step time.Duration, total int) (ts, wall []int64, steps []Step) {
	t.Helper()
	c := NewClock(100, true, time.Time{})
	const mono0, wall0 = int64(5e12), int64(1_800_000_000e9)
	var shiftFrom int
	for k := 0; k < total*100; k++ {
		dev := c.Index()
		ts = append(ts, c.Stamp(dev))
		mono := mono0 + int64(k)*10e6
		w := wall0 + int64(k)*10e6
		if k >= 1000 {
			w += int64(step)
		}
		wall = append(wall, w)
		shift, lost, st := c.Observe(HostTime{Wall: w, Mono: mono}, dev, true)
		if lost != 0 {
			t.Fatalf("sample %d: a step of %v taken for %d lost samples", k, step, lost)
		}
		for i := shiftFrom; i < len(ts); i++ {
			ts[i] += shift
		}
		shiftFrom = len(ts)
		if st.By != 0 {
			steps = append(steps, st)
		}
	}
	return ts, wall, steps
}

// TestClockSmallStepIsSlewed: a step of the host's wall clock within
// StepLimit, either way, is no gap and loses no sample: it is counted,
// and slewed out at no more than 2 % (with no drift), so sample times
// stay strictly increasing and evenly spaced, and meet the stepped clock
// again after about step / 2 %.
func TestClockSmallStepIsSlewed(t *testing.T) {
	for _, step := range []time.Duration{2 * time.Second, -2 * time.Second, 5 * time.Second, -4 * time.Second} {
		t.Run(step.String(), func(t *testing.T) {
			ts, wall, steps := stepRun(t, step, 400)
			if len(steps) != 1 || steps[0].NewSegment || steps[0].By != int64(step) {
				t.Fatalf("steps %+v, want one slewed step of %v", steps, step)
			}
			for k := 1; k < len(ts); k++ {
				if d := ts[k] - ts[k-1]; d < int64(10e6*(1-DefaultMaxSlew))-1 || d > int64(10e6*(1+DefaultMaxSlew))+1 {
					t.Fatalf("sample %d: spacing %v, want 10 ms within 2 %%", k, time.Duration(d))
				}
			}
			// Slewing 2 s at 2 % takes 100 s: well before the end the
			// samples follow the stepped clock again.
			last := len(ts) - 1
			if off := time.Duration(ts[last] - wall[last]); off < -time.Millisecond || off > time.Millisecond {
				t.Fatalf("after %d s the samples are %v off the host clock", len(ts)/100, off)
			}
		})
	}
}

// TestClockLargeStepStartsSegment: a step beyond StepLimit (hours
// forward, a year back) is reported as a new segment: the samples that
// arrived after it move by the step at once, and from then on they follow
// the stepped clock, strictly increasing again.
func TestClockLargeStepStartsSegment(t *testing.T) {
	for _, step := range []time.Duration{3 * time.Hour, -365 * 24 * time.Hour, 6 * time.Second} {
		t.Run(step.String(), func(t *testing.T) {
			ts, wall, steps := stepRun(t, step, 30)
			if len(steps) != 1 || !steps[0].NewSegment || steps[0].By != int64(step) {
				t.Fatalf("steps %+v, want one new segment for %v", steps, step)
			}
			for k := range ts {
				if off := time.Duration(ts[k] - wall[k]); off < -time.Millisecond || off > time.Millisecond {
					t.Fatalf("sample %d is %v off the host clock", k, off)
				}
				if k > 0 && k != 1000 && ts[k] <= ts[k-1] {
					t.Fatalf("sample %d not after sample %d within a segment", k, k-1)
				}
			}
		})
	}
}

// TestClockStepAndGap: a wall clock step while the device was silent
// (unplugged) is told apart from the gap: the gap is measured on the
// monotonic clock and counted as lost samples, the step is reported.
func TestClockStepAndGap(t *testing.T) {
	c := NewClock(100, true, time.Time{})
	dev := c.Index()
	c.Stamp(dev)
	c.Observe(HostTime{Wall: 1e18, Mono: 1e12}, dev, true)
	dev = c.Index()
	before := c.Stamp(dev)
	// 3 s of silence, and meanwhile NTP stepped the clock back a day.
	day := int64(24 * time.Hour)
	shift, lost, st := c.Observe(HostTime{Wall: 1e18 + 3e9 - day, Mono: 1e12 + 3e9}, dev, true)
	if lost != 299 || !st.NewSegment || st.By != -day {
		t.Fatalf("lost %d, step %+v; want 299 samples lost and a new segment for -24h", lost, st)
	}
	if got, want := before+shift, int64(1e18+3e9-day); got != want {
		t.Fatalf("the sample after the gap is at %d, want %d", got, want)
	}
}
