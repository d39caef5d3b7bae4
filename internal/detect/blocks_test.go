package detect

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFloor checks the robust noise floor: its level is the chosen low
// quantile of what it sees, activity does not lift it, it falls within
// seconds when activity stops, it learns nothing while frozen, and a
// constant input keeps a spread above zero.
func TestFloor(t *testing.T) {
	const step = 0.02
	tests := []struct {
		name     string
		seconds  float64
		value    func(i int, rng *rand.Rand) float64
		frozen   func(i int) bool
		lo, hi   float64 // level bounds at the end
		minSprd  float64
		notReady bool
	}{
		{name: "noise only", seconds: 20,
			value: func(_ int, r *rand.Rand) float64 { return 1 + 0.1*r.NormFloat64() }, lo: 0.9, hi: 0.97},
		{name: "40% activity does not lift it", seconds: 20,
			value: func(i int, r *rand.Rand) float64 {
				v := 1 + 0.1*r.NormFloat64()
				if i%10 < 4 {
					v *= 20
				}
				return v
			}, lo: 0.9, hi: 1.1},
		{name: "falls within seconds after activity", seconds: 23,
			value: func(i int, r *rand.Rand) float64 {
				if float64(i)*step < 20 {
					return 20 + r.NormFloat64()
				}
				return 1 + 0.1*r.NormFloat64()
			}, lo: 0.8, hi: 1.2},
		{name: "stays fallen while the long window forgets", seconds: 25.5,
			value: func(i int, r *rand.Rand) float64 {
				if float64(i)*step < 20 {
					return 1.5 + 0.15*r.NormFloat64()
				}
				return 1 + 0.1*r.NormFloat64()
			}, lo: 0.85, hi: 1.0},
		{name: "frozen learns nothing", seconds: 20,
			value:  func(_ int, r *rand.Rand) float64 { return 1 },
			frozen: func(int) bool { return true }, notReady: true},
		{name: "constant input keeps a spread", seconds: 20,
			value: func(int, *rand.Rand) float64 { return 2 }, lo: 1.96, hi: 2.04, minSprd: 0.039},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFloor(step, 20, 2, 0.25)
			rng := rand.New(rand.NewPCG(3, 4))
			for i := 0; i < int(tc.seconds/step); i++ {
				frozen := tc.frozen != nil && tc.frozen(i)
				f.observe(int64(i)*ns(step), tc.value(i, rng), frozen)
			}
			if tc.notReady {
				if f.ready {
					t.Fatalf("ready after frozen input, level %g", f.level)
				}
				return
			}
			if !f.ready || f.level < tc.lo || f.level > tc.hi {
				t.Errorf("level %.3f (ready %v), want %.2f..%.2f", f.level, f.ready, tc.lo, tc.hi)
			}
			if f.spread < tc.minSprd {
				t.Errorf("spread %.4f, want at least %.4f", f.spread, tc.minSprd)
			}
		})
	}
}

// TestBurstHysteresis checks burst segmentation: on above on, off once
// below off for longer than the gap, potentials inside the gap merged.
func TestBurstHysteresis(t *testing.T) {
	tests := []struct {
		name             string
		env              []float64 // one value per time unit
		gap              int64
		wantClosed       bool
		start, last, lOn int64
		rises            int
		peak             float64
	}{
		{name: "one potential", env: []float64{0, 5, 6, 1, 0, 0, 0, 0}, gap: 2,
			wantClosed: true, start: 1, last: 2, lOn: 2, rises: 1, peak: 6},
		{name: "two potentials merge within the gap", env: []float64{0, 5, 0, 0, 7, 0, 0, 0, 0, 0}, gap: 3,
			wantClosed: true, start: 1, last: 4, lOn: 4, rises: 2, peak: 7},
		{name: "between off and on stays open", env: []float64{0, 5, 3, 3, 3, 0, 0, 0, 0}, gap: 2,
			wantClosed: true, start: 1, last: 4, lOn: 1, rises: 1, peak: 5},
		{name: "below on never opens", env: []float64{0, 3, 3.9, 2, 0}, gap: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := burst{gap: tc.gap}
			closed := false
			for i, v := range tc.env {
				if b.step(int64(i), v, 4, 2) == burstClosed {
					closed = true
					break
				}
			}
			if closed != tc.wantClosed {
				t.Fatalf("closed %v, want %v (%+v)", closed, tc.wantClosed, b)
			}
			if !closed {
				return
			}
			if b.start != tc.start || b.lastAbove != tc.last || b.lastOn != tc.lOn || b.rises != tc.rises || b.peakEnv != tc.peak {
				t.Errorf("burst %+v; want start %d last %d lastOn %d rises %d peak %g", b, tc.start, tc.last, tc.lOn, tc.rises, tc.peak)
			}
		})
	}
}

// TestRun checks how long a condition has held, with gaps allowed.
func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		cond       string // one character per time unit: x held, . not
		gap        int64
		closeAt    int // index where the run closes, -1 if it stays open
		held       int64
		start, end int64
	}{
		{name: "closes once the gap is exceeded", cond: "xxxx....", gap: 2, closeAt: 6, held: 3, start: 0, end: 3},
		{name: "short gaps stay inside", cond: "xx.x.xx..x", gap: 2, closeAt: -1, held: 4, start: 0},
		{name: "held time skips a gap longer than allowed", cond: "x..x...", gap: 2, closeAt: 6, held: 0, start: 0, end: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run{gap: tc.gap}
			closedAt := -1
			for i, c := range tc.cond {
				if r.step(int64(i), c == 'x') {
					closedAt = i
					break
				}
			}
			if closedAt != tc.closeAt {
				t.Fatalf("closed at %d, want %d (%+v)", closedAt, tc.closeAt, r)
			}
			if r.heldFor != tc.held || r.start != tc.start || (closedAt >= 0 && r.closedEnd != tc.end) {
				t.Errorf("run %+v; want held %d start %d end %d", r, tc.held, tc.start, tc.end)
			}
		})
	}
}

// TestTimeline checks the context the timeline gives: busy flags, burst
// counts per sensor (a twitch seen twice counts once), shares over a span
// longer than the ring, and how many slots the limb moved in.
func TestTimeline(t *testing.T) {
	sec := func(s float64) int64 { return int64(s * 1e9) }
	tl := newTimeline(10)
	tl.markEMG(sec(1), sec(1.2))
	tl.markRhythm(sec(3), sec(3.9), true)
	tl.markTremor(sec(5), sec(5.05))
	for _, s := range []float64{6, 6.5, 7} {
		tl.addBurst(sec(s), false)
		tl.addBurst(sec(s+0.02), true)
	}
	for k := 80; k < 85; k++ {
		tl.at(int64(k) * slotNS).accStir = true
	}
	busy := []struct {
		name string
		a, b float64
		want bool
	}{
		{"EMG activity", 0.9, 1.05, true},
		{"quiet before it", 0, 0.85, false},
		{"rhythm", 3.5, 3.6, true},
		{"tremor", 4.9, 5.2, true},
		{"bursts are not busy", 6, 7.1, false},
	}
	for _, tc := range busy {
		if got := tl.busy(sec(tc.a), sec(tc.b)); got != tc.want {
			t.Errorf("%s: busy(%g, %g) = %v, want %v", tc.name, tc.a, tc.b, got, tc.want)
		}
	}
	if n := tl.burstCount(sec(5.5), sec(7.5)); n != 3 {
		t.Errorf("burstCount = %d, want 3 (each twitch on both sensors counts once)", n)
	}
	if sh := tl.fractions(sec(3), sec(3.95)); sh.rhythm != 1 || sh.rep != 1 || sh.tremor != 0 {
		t.Errorf("shares over the rhythm %+v, want rhythm and rep 1", sh)
	}
	// Ten seconds of ring: a span of a minute counts only what it holds,
	// the last ten seconds, of which one was rhythmic.
	if sh := tl.fractions(sec(-50), sec(3.95)); sh.rhythm < 0.09 || sh.rhythm > 0.11 {
		t.Errorf("rhythm share over a span longer than the ring = %.2f, want the held part's (0.10)", sh.rhythm)
	}
	if !tl.stirred(sec(7.9), sec(8.6), 5) || tl.stirred(sec(7.9), sec(8.6), 6) {
		t.Error("stirred should count the 5 moving slots exactly")
	}
}

// TestEMGBurstRejections feeds one EMG channel bursts that are not
// fasciculations and checks each is turned down for its reason.
func TestEMGBurstRejections(t *testing.T) {
	const fs = 1000.0
	tests := []struct {
		name  string
		burst func(d float64, rng *rand.Rand) float64 // mV at d seconds into the burst
		dur   float64
		want  bool // a candidate expected
	}{
		{"a fasciculation potential", func(d float64, _ *rand.Rand) float64 { return 0.15 * math.Sin(2*math.Pi*d/0.01) }, 0.01, true},
		{"a contraction's interference pattern", func(d float64, r *rand.Rand) float64 {
			return 0.1 * math.Sin(math.Pi*d/0.4) * r.NormFloat64()
		}, 0.4, false},
		{"an electrode pop", func(d float64, _ *rand.Rand) float64 { return 0.5 * math.Exp(-d/0.1) }, 0.5, false},
		{"a huge spike", func(d float64, _ *rand.Rand) float64 { return 5 * math.Sin(2*math.Pi*d/0.01) }, 0.01, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Default()
			var got []candidate
			sink := &recorder{twitch: func(c candidate) { got = append(got, c) }}
			c, err := newEMG(&cfg, 0, "emg", fs, newTimeline(60), sink)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			for i := 0; i < int(20*fs); i++ {
				s := float64(i) / fs
				x := 0.004 * rng.NormFloat64()
				if d := s - 15; d >= 0 && d < tc.dur {
					x += tc.burst(d, rng)
				}
				c.step(int64(s*1e9), x)
			}
			if (len(got) > 0) != tc.want {
				t.Errorf("%d candidates, want any: %v", len(got), tc.want)
			}
		})
	}
}

// recorder is a candidateSink for unit tests of one channel.
type recorder struct {
	twitch func(candidate)
	cramp  func(crampCandidate)
}

func (r *recorder) twitchCandidate(c candidate) {
	if r.twitch != nil {
		r.twitch(c)
	}
}

func (r *recorder) crampCandidate(c crampCandidate) {
	if r.cramp != nil {
		r.cramp(c)
	}
}
