package detect

import (
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

func TestBouts(t *testing.T) {
	cfg := Default()
	ep := ns(cfg.Epoch)
	// pattern: one character per 5 s epoch; A active (vigorous), L active
	// (light), R active with lifting repetitions, S light with
	// repetitions, . inactive. veto, when set, vetoes every run (a cramp).
	tests := []struct {
		name    string
		pattern string
		want    []span // in epochs
		inten   []string
		veto    bool
	}{
		{"none", "..........", nil, nil, false},
		{"fidgets are not bouts", "A..A..A...A..A....", nil, nil, false},
		{"one bout", "..AAAAAAAAAA....", []span{{2, 12}}, []string{pipeline.IntensityVigorous}, false},
		{"short gaps stay inside", "AAAA.AAAA..AAAA.........", []span{{0, 15}}, []string{pipeline.IntensityVigorous}, false},
		{"too short", "AAAAA...........", nil, nil, false},
		{"two bouts apart", "AAAAAAA..........AAAAAAA.........", []span{{0, 7}, {17, 24}}, []string{pipeline.IntensityVigorous, pipeline.IntensityVigorous}, false},
		{"close bouts merge", "AAAAAAA....AAAAAAA........", []span{{0, 18}}, []string{pipeline.IntensityVigorous}, false},
		{"warm-up and main set", "LLLLAAAAAAAAALL........", []span{{0, 15}}, []string{pipeline.IntensityVigorous}, false},
		{"light walk", "LLLLLLLLLL......", []span{{0, 10}}, []string{pipeline.IntensityLight}, false},
		{"open at the end", "....AAAAAAAAA", []span{{4, 13}}, []string{pipeline.IntensityVigorous}, false},
		// 24 epochs = 2 min of rest between sets, 40 = 3 min 20 s.
		{"sets with 2 min rests are one bout", "RRRR" + strings.Repeat(".", 24) + "RRRR" + strings.Repeat(".", 24) + "RRRR.......",
			[]span{{0, 60}}, []string{pipeline.IntensityVigorous}, false},
		{"sets with over 3 min rests are not", "RRRRRRR" + strings.Repeat(".", 40) + "RRRRRRR.......",
			[]span{{0, 7}, {47, 54}}, []string{pipeline.IntensityVigorous, pipeline.IntensityVigorous}, false},
		{"short sets wait for the next", "SSS" + strings.Repeat(".", 20) + "SSS" + strings.Repeat(".", 20) + "SSS........",
			[]span{{0, 49}}, []string{pipeline.IntensityLight}, false},
		{"short runs without repetitions do not", "LLL" + strings.Repeat(".", 20) + "LLL" + strings.Repeat(".", 20) + "LLL........", nil, nil, false},
		{"only walks merge within 30 s", "LLLLLLL" + strings.Repeat(".", 12) + "LLLLLLL.......",
			[]span{{0, 7}, {19, 26}}, []string{pipeline.IntensityLight, pipeline.IntensityLight}, false},
		{"a vetoed run is no bout", "..AAAAAAAAAA....", nil, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bt := bouts{cfg: &cfg}
			if tc.veto {
				bt.veto = func(int64, int64) bool { return true }
			}
			var got []span
			var inten []string
			out := func(b *boutAcc) {
				got = append(got, span{b.start / ep, b.end / ep})
				inten = append(inten, cfg.intensity(b))
			}
			for i, c := range tc.pattern {
				f := epochFeatures{start: int64(i) * ep, end: int64(i+1) * ep, hasAcc: true}
				switch c {
				case 'A':
					f.active, f.enmo = true, 600
				case 'L':
					f.active, f.enmo = true, 60
				case 'R':
					f.active, f.enmo, f.rep = true, 600, true
				case 'S':
					f.active, f.enmo, f.rep = true, 60, true
				default:
					f.enmo = 5
				}
				bt.epoch(f, out)
			}
			bt.end(out)
			if len(got) != len(tc.want) {
				t.Fatalf("bouts %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] || inten[i] != tc.inten[i] {
					t.Errorf("bout %d = %v %s, want %v %s", i, got[i], inten[i], tc.want[i], tc.inten[i])
				}
			}
		})
	}
}

func TestBurstMergesPotentials(t *testing.T) {
	b := burst{gap: 30}
	env := []float64{0, 5, 5, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	var closed bool
	for i, v := range env {
		if b.step(int64(i), v, 4, 2) == burstClosed {
			closed = true
			break
		}
	}
	if !closed || b.start != 1 || b.lastAbove != 5 || b.rises != 2 || b.peakEnv != 6 {
		t.Fatalf("burst %+v closed=%v; want start 1, last 5, 2 rises, peak 6", b, closed)
	}
}

func TestFloorIgnoresActivity(t *testing.T) {
	f := newFloor(0.02, 20, 2, 0.25)
	rng := rand.New(rand.NewPCG(3, 4))
	// 20 s of noise around 1 with 40% of the time a 20x activity.
	for i := 0; i < 1000; i++ {
		v := 1 + 0.1*rng.NormFloat64()
		if i%10 < 4 {
			v *= 20
		}
		f.observe(int64(i)*ns(0.02), v, false)
	}
	if !f.ready {
		t.Fatal("floor not ready after a full window")
	}
	if f.level < 0.9 || f.level > 1.1 {
		t.Errorf("floor %.3f, want about 1 despite 40%% activity", f.level)
	}
	th := f.threshold(7, 2.5, 0)
	if th < 2.4 || th > 4 {
		t.Errorf("threshold %.3f, want between 2.4 and 4", th)
	}
}

func TestBeginErrors(t *testing.T) {
	tests := []struct {
		name  string
		chans []pipeline.Channel
	}{
		{"no usable channel", []pipeline.Channel{{Name: "temp", Kind: pipeline.KindOther}}},
		{"emg without rate", []pipeline.Channel{{Name: "emg", Kind: pipeline.KindEMG}}},
		{"acc missing an axis", []pipeline.Channel{
			{Name: "ax", Kind: pipeline.KindAcc, Axis: 'x', Group: "a", RateHz: 50},
			{Name: "ay", Kind: pipeline.KindAcc, Axis: 'y', Group: "a", RateHz: 50}}},
		{"emg too slow", []pipeline.Channel{{Name: "emg", Kind: pipeline.KindEMG, RateHz: 25}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(Default())
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Begin(pipeline.Meta{Channels: tc.chans}, func(pipeline.Event) {}); err == nil {
				t.Fatal("Begin succeeded, want an error")
			}
		})
	}
}

// TestSyntheticTwitches runs the EMG detector over noise with potentials
// at known times, some of them inside bursts of voluntary activity, and
// checks precision and recall exactly.
func TestSyntheticTwitches(t *testing.T) {
	const fs = 1000.0
	cfg := Default()
	if testing.Verbose() {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	d, _ := New(cfg)
	var got []*pipeline.Twitch
	var cramps int
	emit := func(e pipeline.Event) {
		switch e := e.(type) {
		case *pipeline.Twitch:
			got = append(got, e)
		case *pipeline.Cramp:
			cramps++
		}
	}
	chans := []pipeline.Channel{{Name: "emg", Kind: pipeline.KindEMG, RateHz: fs}}
	if err := d.Begin(pipeline.Meta{Channels: chans}, emit); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	truth := []float64{20, 27.3, 33.1, 41.7, 52.2, 58.9, 66.4, 75}
	// Voluntary activity (a 4 s contraction) from 85 to 89 s with a
	// potential-like transient inside it that must not count.
	b := pipeline.NewBatch(1, 1000)
	n := int(100 * fs)
	t0 := int64(1_700_000_000e9)
	for i := 0; i < n; {
		b.Reset()
		for k := 0; k < 1000 && i < n; k++ {
			ts := float64(i) / fs
			x := 0.004 * rng.NormFloat64()
			for _, tt := range truth {
				if dt := ts - tt; dt >= 0 && dt < 0.01 {
					x += 0.15 * math.Sin(2*math.Pi*dt/0.01) // 10 ms biphasic, 150 µV
				}
			}
			if ts >= 85 && ts < 89 {
				x += 0.3 * rng.NormFloat64()
			}
			b.Append(t0 + int64(float64(i)*1e9/fs))[0] = x
			i++
		}
		if err := d.Process(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.End(t0 + int64(float64(n-1)*1e9/fs)); err != nil {
		t.Fatal(err)
	}
	tp := 0
	for _, tw := range got {
		s := float64(int64(tw.Start)-t0) / 1e9
		hit := false
		for _, tt := range truth {
			if math.Abs(s-tt) < 0.05 {
				hit = true
			}
		}
		if hit {
			tp++
		} else {
			t.Errorf("false twitch at %.3f s (peak %.3f mV)", s, tw.Peak)
		}
		if tw.Phase != pipeline.PhaseRest || tw.Sensor != "emg" || tw.Channel != "emg" {
			t.Errorf("twitch at %.3f: phase %q sensor %q channel %q", s, tw.Phase, tw.Sensor, tw.Channel)
		}
	}
	if tp != len(truth) {
		t.Errorf("found %d of %d twitches", tp, len(truth))
	}
	if cramps != 1 {
		t.Errorf("cramps = %d, want 1 (the sustained contraction at rest without an accelerometer to say it was movement)", cramps)
	}
}

// TestTimeJumps feeds frames whose clock starts before 1970 and then jumps
// by decades: the detector must neither panic nor loop for long.
func TestTimeJumps(t *testing.T) {
	d, _ := New(Default())
	chans := []pipeline.Channel{{Name: "emg", Kind: pipeline.KindEMG, RateHz: 1000}}
	if err := d.Begin(pipeline.Meta{Channels: chans}, func(pipeline.Event) {}); err != nil {
		t.Fatal(err)
	}
	starts := []int64{-5e9, 0, 1_700_000_000e9, 1_700_000_100e9}
	b := pipeline.NewBatch(1, 1000*len(starts))
	for _, s := range starts {
		for i := 0; i < 1000; i++ {
			b.Append(s + int64(i)*1e6)[0] = 0.001 * math.Sin(float64(i))
		}
	}
	if err := d.Process(b); err != nil {
		t.Fatal(err)
	}
	if err := d.End(starts[len(starts)-1] + 999e6); err != nil {
		t.Fatal(err)
	}
}

// TestNoAllocationPerSample checks that in steady state the detectors
// allocate only for the events they emit (an epoch every 5 s per sensor,
// a twitch now and then), never per sample: 5 s of EMG at 1 kHz with an
// accelerometer at 100 Hz, 5 120 frames, may allocate a few times.
func TestNoAllocationPerSample(t *testing.T) {
	chans, batches := benchFrames(1000, 100, 120)
	d, err := New(Default())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Begin(pipeline.Meta{Channels: chans}, func(pipeline.Event) {}); err != nil {
		t.Fatal(err)
	}
	i := 0
	feed := func() {
		if err := d.Process(batches[i]); err != nil {
			t.Fatal(err)
		}
		i++
	}
	for i < len(batches)/2 { // a minute of warm-up
		feed()
	}
	per5s := testing.AllocsPerRun(5, func() {
		for k := 0; k < 10; k++ { // 10 batches of 512 frames
			feed()
		}
	})
	if per5s > 20 {
		t.Errorf("%.0f allocations per 5 s of frames, want only the events'", per5s)
	}
}
