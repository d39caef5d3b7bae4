package simulate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/csv"
	_ "github.com/twitchd/twitchd/internal/decode/edf"
	"github.com/twitchd/twitchd/pipeline"
)

func mustPreset(t testing.TB, name string) Scenario {
	t.Helper()
	sc, err := Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestGenerateIsDeterministic(t *testing.T) {
	sc := mustPreset(t, "bundled-calf").Scaled(1)
	a, la := generateBytes(t, sc, 7)
	b, lb := generateBytes(t, sc, 7)
	if !bytes.Equal(a, b) {
		t.Fatal("same scenario and seed gave different bytes")
	}
	ja, _ := json.Marshal(la)
	jb, _ := json.Marshal(lb)
	if !bytes.Equal(ja, jb) {
		t.Fatal("same scenario and seed gave different labels")
	}
	pl, err := PlanLabels(sc, 7)
	if err != nil {
		t.Fatal(err)
	}
	if jp, _ := json.Marshal(pl); !bytes.Equal(jp, ja) {
		t.Error("PlanLabels differs from the labels Generate returned")
	}
	// The labels carry every setting: a file can be regenerated from them.
	back, err := ReadLabels(bytes.NewReader(ja), "labels.json")
	if err != nil {
		t.Fatal(err)
	}
	if re, _ := generateBytes(t, back.Settings, back.Seed); !bytes.Equal(re, a) {
		t.Error("regenerating from the labels' settings and seed gave different bytes")
	}
	c, _ := generateBytes(t, sc, 8)
	if bytes.Equal(a, c) {
		t.Fatal("seeds 7 and 8 gave the same bytes")
	}
	if !strings.HasPrefix(string(a), "# twitchd simulate scenario=bundled-calf seed=7 ") {
		t.Errorf("first line %q", strings.SplitN(string(a), "\n", 2)[0])
	}
}

func TestValidateRejectsBadSettings(t *testing.T) {
	good := mustPreset(t, "bundled-calf")
	cases := []struct {
		name   string
		change func(*Scenario)
		want   string // substring of the error; empty: valid
	}{
		{"emg 250 ok", func(s *Scenario) { s.EMGRate = 250 }, ""},
		{"emg 4000 ok", func(s *Scenario) { s.EMGRate = 4000 }, ""},
		{"emg 249", func(s *Scenario) { s.EMGRate = 249 }, "EMG rate 249 Hz is outside 250..4000"},
		{"emg 4001", func(s *Scenario) { s.EMGRate = 4001 }, "EMG rate 4001 Hz"},
		{"emg NaN", func(s *Scenario) { s.EMGRate = math.NaN() }, "EMG rate NaN"},
		{"acc 25 ok", func(s *Scenario) { s.AccRate = 25 }, ""},
		{"acc 200 ok", func(s *Scenario) { s.AccRate = 200 }, ""},
		{"acc 24", func(s *Scenario) { s.AccRate = 24 }, "accelerometer rate 24 Hz is outside 25..200"},
		{"acc 201", func(s *Scenario) { s.AccRate = 201 }, "accelerometer rate 201 Hz"},
		{"mains 55", func(s *Scenario) { s.MainsHz = 55 }, "mains frequency 55 Hz"},
		{"mains none ok", func(s *Scenario) { s.MainsHz = 0 }, ""},
		{"negative noise", func(s *Scenario) { s.NoiseUV = -1 }, "noise floor"},
		{"pattern", func(s *Scenario) { s.Twitch.Pattern = "sometimes" }, "twitch pattern \"sometimes\""},
		{"acc fraction", func(s *Scenario) { s.Twitch.AccFraction = 1.5 }, "twitch acc fraction"},
		{"no phases", func(s *Scenario) { s.Phases = nil }, "no phases"},
		{"activity", func(s *Scenario) { s.Phases[1].Activity = "swimming" }, "phase 2 (exercise): activity \"swimming\""},
		{"intensity", func(s *Scenario) { s.Phases[1].Intensity = "extreme" }, "intensity \"extreme\""},
		{"zero duration", func(s *Scenario) { s.Phases[0].Seconds = 0 }, "phase 1 (warmup): duration 0 s"},
		{"cramp length", func(s *Scenario) { s.Cramps, s.CrampMinS = 1, 1 }, "cramp duration"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := good
			sc.Phases = append([]PhaseSpec(nil), good.Phases...)
			c.change(&sc)
			err := sc.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrScenario) {
				t.Fatalf("error %v, want one containing %q wrapping ErrScenario", err, c.want)
			}
			if _, gerr := Generate(sc, 1, io.Discard); gerr == nil {
				t.Fatal("Generate accepted an invalid scenario")
			}
		})
	}
}

func TestPresetsValidAndScaled(t *testing.T) {
	names := PresetNames()
	for _, want := range []string{"bundled-calf", "bundled-forearm", "running-fades", "lifting-stops", "cycling-persists", "cramps", "no-twitch", "quiet-rest", "fidget-rest"} {
		if _, err := Preset(want); err != nil {
			t.Errorf("missing preset %s (have %v)", want, names)
		}
	}
	if _, err := Preset("nope"); err == nil || !strings.Contains(err.Error(), "bundled-calf") {
		t.Errorf("unknown preset error %v should list the names", err)
	}
	for _, sc := range Presets() {
		if err := sc.Validate(); err != nil {
			t.Errorf("%s: %v", sc.Name, err)
		}
		s2 := sc.Scaled(2)
		if math.Abs(s2.Seconds()-120) > 1e-9 {
			t.Errorf("%s scaled to 2 min lasts %g s", sc.Name, s2.Seconds())
		}
		if sc.Phases[0].Seconds == s2.Phases[0].Seconds && sc.Seconds() != 120 {
			t.Errorf("%s: Scaled changed the original's phases", sc.Name)
		}
	}
	if calf := mustPreset(t, "bundled-calf"); math.Abs(calf.Seconds()-240) > 1 {
		t.Errorf("bundled-calf lasts %g s, want about 4 min", calf.Seconds())
	}
	if fa := mustPreset(t, "bundled-forearm"); math.Abs(fa.Seconds()-180) > 1 || fa.Cramps != 1 {
		t.Errorf("bundled-forearm lasts %g s with %d cramps, want about 3 min and one", fa.Seconds(), fa.Cramps)
	}
}

func TestExpectedStatus(t *testing.T) {
	cases := []struct {
		preset string
		want   string
	}{
		{"running-fades", StatusPostExercise},
		{"lifting-stops", StatusCeased},
		{"cycling-persists", StatusPersistent},
		{"cramps", StatusPersistentWithSymptoms},
		{"no-twitch", StatusNone},
		{"quiet-rest", StatusNone},
		{"bundled-forearm", StatusPostExercise},
		// 30 s of resumed running is too short for the rule to call it resumed.
		{"bundled-calf", StatusPostExercise},
	}
	for _, c := range cases {
		t.Run(c.preset, func(t *testing.T) {
			p := newPlan(mustPreset(t, c.preset), 3)
			if got := p.labels.ExpectedStatus; got != c.want {
				t.Errorf("expected status %s, want %s (%d twitches)", got, c.want, len(p.labels.Twitches))
			}
		})
	}
}

// TestLabelsConsistent checks the labels' own logic: twitches only in rest
// after exercise, none after resumed activity unless persisting, apart
// from artifacts and cramps; bouts cover the active phases.
func TestLabelsConsistent(t *testing.T) {
	for _, name := range []string{"lifting-stops", "cycling-persists", "cramps", "fidget-rest", "quiet-rest"} {
		t.Run(name, func(t *testing.T) {
			sc := mustPreset(t, name)
			l := newPlan(sc, 5).labels
			var resumedEnd pipeline.Timestamp
			for _, p := range l.Phases {
				if p.Name == PhaseResumed {
					resumedEnd = p.End
				}
			}
			for _, tw := range l.Twitches {
				p := l.PhaseAt(tw.Start)
				if p == nil || p.Name != PhaseRest || tw.Phase != PhaseRest {
					t.Errorf("twitch at %s not in rest", tw.Start)
				}
				if sc.Twitch.Pattern != PatternPersists && resumedEnd > 0 && tw.Start > resumedEnd {
					t.Errorf("twitch at %s after resumed activity with pattern %s", tw.Start, sc.Twitch.Pattern)
				}
				if tw.End <= tw.Start || tw.End-tw.Start > pipeline.Timestamp(250*time.Millisecond) {
					t.Errorf("twitch %s..%s has an odd length", tw.Start, tw.End)
				}
				if tw.PeakUV < 50 || tw.Potentials < 1 || tw.Potentials > 6 {
					t.Errorf("twitch %+v out of range", tw)
				}
				if tw.InAcc && (tw.AccStart < tw.Start || tw.AccEnd <= tw.AccStart || tw.AccPeakMg < 20) {
					t.Errorf("visible twitch %+v has a bad acc interval or peak", tw)
				}
				for _, a := range l.Artifacts {
					if a.Start < tw.End+pipeline.Timestamp(time.Second) && a.End > tw.Start-pipeline.Timestamp(time.Second) {
						t.Errorf("twitch at %s within a second of %s %s..%s", tw.Start, a.Kind, a.Start, a.End)
					}
				}
				for _, c := range l.Cramps {
					if c.Start < tw.End+pipeline.Timestamp(time.Second) && c.End > tw.Start-pipeline.Timestamp(time.Second) {
						t.Errorf("twitch at %s within a second of a cramp", tw.Start)
					}
				}
			}
			var active float64
			for _, p := range l.Phases {
				if p.Activity != ActivityNone {
					active += float64(p.End - p.Start)
				}
			}
			var bouts float64
			for _, b := range l.Bouts {
				bouts += float64(b.End - b.Start)
			}
			if active != bouts {
				t.Errorf("bouts cover %g ns, active phases %g ns", bouts, active)
			}
			if len(l.Cramps) != sc.Cramps {
				t.Errorf("%d cramps placed, want %d", len(l.Cramps), sc.Cramps)
			}
			var buf bytes.Buffer
			if err := l.WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			back, err := ReadLabels(&buf, "labels.json")
			if err != nil {
				t.Fatal(err)
			}
			if len(back.Twitches) != len(l.Twitches) || back.ExpectedStatus != l.ExpectedStatus || back.Settings.EMGRate != sc.EMGRate {
				t.Errorf("labels did not survive a JSON round trip")
			}
		})
	}
	if _, err := ReadLabels(strings.NewReader(`{"schema":"other/9"}`), "x.json"); err == nil || !strings.Contains(err.Error(), "x.json: labels schema \"other/9\"") {
		t.Errorf("schema mismatch error: %v", err)
	}
}

// TestSignalMatchesLabels checks the recording against its labels: EMG
// energy inside every twitch, a dynamic-acceleration bump for the visible
// ones only, low ENMO at rest, sustained EMG during cramps.
func TestSignalMatchesLabels(t *testing.T) {
	sc := mustPreset(t, "cramps").Scaled(5)
	sc.MainsHz, sc.WanderUV, sc.PopsPerMin, sc.MotionPerMin = 0, 0, 0, 0
	sc.Twitch.RatePerMin = 20
	data, l := generateBytes(t, sc, 11)
	r := parseCSV(t, data)
	sec := func(ts pipeline.Timestamp) float64 { return float64(ts-l.Start) / 1e9 }
	floor := math.Inf(1)
	for _, p := range l.Phases {
		if p.Name == PhaseRest {
			a := sec(p.Start) + 3
			floor = math.Min(floor, r.rms(a, a+0.5))
		}
	}
	if floor > 2*sc.NoiseUV*1e-3 {
		t.Fatalf("rest floor %.4f mV, want about %g µV", floor, sc.NoiseUV)
	}
	if len(l.Twitches) < 5 {
		t.Fatalf("only %d twitches", len(l.Twitches))
	}
	noiseG := sc.AccNoiseMg * 1e-3
	var visible, invisible int
	for _, tw := range l.Twitches {
		a, b := sec(tw.Start), sec(tw.End)
		if got := r.rms(a, b); got < 3*floor {
			t.Errorf("twitch at %.3f s: EMG RMS %.4f mV, not above 3x the floor %.4f", a, got, floor)
		}
		bump := r.accBump(a-0.02, a+0.35)
		if tw.InAcc {
			visible++
			if bump < 0.5*tw.AccPeakMg*1e-3 || bump < 3*noiseG {
				t.Errorf("visible twitch at %.3f s: acc bump %.1f mg, labelled %.1f mg", a, bump*1e3, tw.AccPeakMg)
			}
		} else {
			invisible++
			if bump > 5*noiseG {
				t.Errorf("invisible twitch at %.3f s moves the accelerometer by %.1f mg", a, bump*1e3)
			}
		}
	}
	if visible == 0 || invisible == 0 {
		t.Errorf("%d visible and %d invisible twitches: want both", visible, invisible)
	}
	for _, c := range l.Cramps {
		a, b := sec(c.Start), sec(c.End)
		mid := r.rms(a+(b-a)*0.3, a+(b-a)*0.7)
		// between fasciculation potentials and vigorous contraction
		if mid < 0.05 || mid > 0.6 {
			t.Errorf("cramp at %.1f s: plateau RMS %.3f mV, want 0.05..0.6", a, mid)
		}
	}
	for _, p := range l.Phases {
		if p.Name == PhaseRest {
			if e := r.enmo(sec(p.Start)+3, sec(p.End)-3); e >= 40 {
				t.Errorf("rest at %.0f s: ENMO %.1f mg, want sedentary (< 40)", sec(p.Start), e)
			}
		}
	}
}

// accBump returns the largest deviation (g, vector norm) of the
// accelerometer in [a, b) from its mean over the 0.5 s before a.
func (r *recording) accBump(a, b float64) float64 {
	var m [3]float64
	n := 0
	for i, tm := range r.accT {
		if tm >= a-0.5 && tm < a {
			for k := 0; k < 3; k++ {
				m[k] += r.acc[i][k]
			}
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	var peak float64
	for i, tm := range r.accT {
		if tm >= a && tm < b {
			var s float64
			for k := 0; k < 3; k++ {
				d := r.acc[i][k] - m[k]/float64(n)
				s += d * d
			}
			peak = math.Max(peak, math.Sqrt(s))
		}
	}
	return peak
}

// TestExerciseIntensity checks that ENMO during each activity falls in
// the labelled intensity's range of the cut-points 40/100/400 mg (the
// detectors' defaults, after Hildebrand et al. 2014).
func TestExerciseIntensity(t *testing.T) {
	ranges := map[string][2]float64{"light": {40, 100}, "moderate": {100, 400}, "vigorous": {400, math.Inf(1)}}
	sites := map[string]string{ActivityRunning: "calf_left", ActivityCycling: "thigh_left", ActivityLifting: "forearm_right"}
	for _, act := range []string{ActivityRunning, ActivityCycling, ActivityLifting} {
		for _, in := range []string{"light", "moderate", "vigorous"} {
			for _, rate := range []float64{25, 100} {
				t.Run(fmt.Sprintf("%s-%s-%gHz", act, in, rate), func(t *testing.T) {
					sc := base("intensity", "", sites[act])
					sc.EMGRate, sc.AccRate, sc.PopsPerMin = 500, rate, 0
					sc.Phases = []PhaseSpec{ph(PhaseExercise, act, in, 40)}
					data, _ := generateBytes(t, sc, 2)
					e := parseCSV(t, data).enmo(4, 36)
					if rg := ranges[in]; e < rg[0] || e >= rg[1] {
						t.Errorf("ENMO %.0f mg, want %g..%g", e, rg[0], rg[1])
					}
				})
			}
		}
	}
}

// power returns the one-sided power spectrum of x (Hann window) and the
// frequency of each bin.
func power(x []float64, fs float64) (p, f []float64) {
	n := len(x)
	w := make([]float64, n)
	var mean float64
	for _, v := range x {
		mean += v / float64(n)
	}
	for i, v := range x {
		w[i] = (v - mean) * (0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n)))
	}
	fft := fourier.NewFFT(n)
	c := fft.Coefficients(nil, w)
	p = make([]float64, len(c))
	f = make([]float64, len(c))
	for i, v := range c {
		p[i] = cmplx.Abs(v) * cmplx.Abs(v)
		f[i] = fft.Freq(i) * fs
	}
	return p, f
}

func TestSpectrum(t *testing.T) {
	t.Run("mains dominates 45-65 Hz", func(t *testing.T) {
		for _, hz := range []float64{50, 60} {
			sc := base("mains", "", "calf_left")
			sc.MainsHz, sc.PopsPerMin = hz, 0
			sc.Phases = []PhaseSpec{ph(PhaseRest, "", "", 12)}
			data, _ := generateBytes(t, sc, 4)
			r := parseCSV(t, data)
			p, f := power(r.emg[2000:10192], sc.EMGRate)
			best, bestP := 0.0, 0.0
			var band float64
			for i := range p {
				if f[i] >= 45 && f[i] <= 65 {
					band += p[i]
					if p[i] > bestP {
						best, bestP = f[i], p[i]
					}
				}
			}
			if math.Abs(best-hz) > 0.5 {
				t.Errorf("mains %g Hz: strongest bin in 45-65 Hz at %.2f Hz", hz, best)
			}
			var near float64
			for i := range p {
				if math.Abs(f[i]-hz) <= 1 {
					near += p[i]
				}
			}
			if near < 0.8*band {
				t.Errorf("mains %g Hz holds %.0f%% of the 45-65 Hz band", hz, 100*near/band)
			}
		}
	})
	t.Run("voluntary EMG mostly 20-450 Hz", func(t *testing.T) {
		sc := base("voluntary", "", "calf_left")
		sc.EMGRate, sc.MainsHz, sc.WanderUV, sc.NoiseUV, sc.PopsPerMin = 2000, 0, 0, 0.5, 0
		sc.Phases = []PhaseSpec{ph(PhaseExercise, ActivityRunning, "vigorous", 12)}
		data, _ := generateBytes(t, sc, 5)
		r := parseCSV(t, data)
		p, f := power(r.emg[8000:8000+16384], sc.EMGRate)
		var total, in float64
		peakF, peakP := 0.0, 0.0
		for i := range p {
			total += p[i]
			if f[i] >= 20 && f[i] <= 450 {
				in += p[i]
			}
			if p[i] > peakP {
				peakF, peakP = f[i], p[i]
			}
		}
		if in < 0.9*total {
			t.Errorf("%.0f%% of voluntary EMG power in 20-450 Hz, want >= 90%%", 100*in/total)
		}
		// the spectrum is noisy bin by bin; the smoothed peak must lie 40-200 Hz
		if sm := smoothedPeak(p, f, 10); sm < 40 || sm > 200 {
			t.Errorf("voluntary EMG spectrum peaks at %.0f Hz (raw bin %.0f Hz), want 40-200", sm, peakF)
		}
	})
}

// smoothedPeak returns the frequency of the largest moving average of p
// over k bins each side.
func smoothedPeak(p, f []float64, k int) float64 {
	best, bestF := 0.0, 0.0
	for i := k; i < len(p)-k; i++ {
		var s float64
		for j := i - k; j <= i+k; j++ {
			s += p[j]
		}
		if s > best {
			best, bestF = s, f[i]
		}
	}
	return bestF
}

// TestDecodesWithCSVDecoder reads a generated file with the project's
// csv decoder: kinds, units, estimated rates and sample counts.
func TestDecodesWithCSVDecoder(t *testing.T) {
	sc := mustPreset(t, "bundled-forearm").Scaled(0.5)
	sc.EMGRate, sc.AccRate = 1000, 30 // not a whole ratio: acc on the nearest row
	data, l := generateBytes(t, sc, 9)
	f, err := decode.Lookup("csv")
	if err != nil {
		t.Fatal(err)
	}
	src, err := f.Open(bytes.NewReader(data), decode.Options{Name: "sim.csv", Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	m := src.Meta()
	if len(m.Channels) != 4 || m.Channels[0].Kind != pipeline.KindEMG || m.Channels[1].Kind != pipeline.KindAcc {
		t.Fatalf("channels %+v", m.Channels)
	}
	if r := m.Channels[1].RateHz; math.Abs(r-30) > 1 {
		t.Errorf("acc rate estimated %g Hz, want about 30", r)
	}
	b := pipeline.NewBatch(len(m.Channels), 4096)
	var frames, accN int64
	var first, last int64
	for {
		err := src.Next(t.Context(), b)
		for _, fr := range b.Frames {
			if frames == 0 {
				first = fr.Time
			}
			last = fr.Time
			frames++
			if !pipeline.IsNoSample(fr.Values[1]) {
				accN++
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if want := int64(sc.Seconds() * sc.EMGRate); frames != want {
		t.Errorf("%d frames, want %d", frames, want)
	}
	if want := int64(sc.Seconds() * sc.AccRate); math.Abs(float64(accN-want)) > 1 {
		t.Errorf("%d acc samples, want %d", accN, want)
	}
	if first != int64(l.Start) || last >= int64(l.End) || int64(l.End)-last > int64(2*time.Millisecond) {
		t.Errorf("frames span %d..%d, labels %d..%d", first, last, l.Start, l.End)
	}
}

// TestBoundedMemory generates ten minutes at 4 kHz (2.4 million rows)
// and checks that generation neither allocates per sample nor keeps the
// signal: total allocation and heap in use stay at a few MB.
func TestBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("long generation")
	}
	sc := mustPreset(t, "running-fades").Scaled(10)
	sc.EMGRate, sc.AccRate = 4000, 200
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l, err := Generate(sc, 1, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	rows := sc.Seconds() * sc.EMGRate
	alloc := float64(after.TotalAlloc - before.TotalAlloc)
	if alloc/rows > 1 {
		t.Errorf("allocated %.0f bytes for %.0f rows (%.2f per row): want no allocation per sample", alloc, rows, alloc/rows)
	}
	if inuse := int64(after.HeapInuse) - int64(before.HeapInuse); inuse > 16<<20 {
		t.Errorf("heap in use grew by %d bytes", inuse)
	}
	if len(l.Twitches) == 0 {
		t.Error("no twitches in ten minutes")
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, rate := range []float64{1000, 4000} {
		b.Run(fmt.Sprintf("%gHz", rate), func(b *testing.B) {
			sc := mustPreset(b, "bundled-calf").Scaled(0.5)
			sc.EMGRate = rate
			rows := sc.Seconds() * rate
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Generate(sc, int64(i), io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(rows*float64(b.N)), "ns/sample")
		})
	}
}

func TestAppendFixed5(t *testing.T) {
	cases := []struct {
		v    float64
		want string
	}{
		{0, "0.00000"},
		{1, "1.00000"},
		{-1.5, "-1.50000"},
		{0.000004, "0.00000"},
		{0.000006, "0.00001"},
		{-0.000006, "-0.00001"},
		{1.234567, "1.23457"},
		{-7.99609375, "-7.99609"},
		{123456.7, "123456.70000"},
		{2e9, "2000000000.00000"},
	}
	for _, c := range cases {
		if got := string(appendFixed5(nil, c.v)); got != c.want {
			t.Errorf("appendFixed5(%g) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestGenerateEDF writes the same recording as EDF+ and as CSV, reads the
// EDF back with the project's EDF decoder and compares every sample.
func TestGenerateEDF(t *testing.T) {
	sc := mustPreset(t, "bundled-forearm").Scaled(0.25)
	sc.EMGRate, sc.AccRate = 500, 50
	csvData, lc := generateBytes(t, sc, 6)
	path := filepath.Join(t.TempDir(), "x.edf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	le, err := GenerateEDF(sc, 6, f)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if je, _ := json.Marshal(le); string(je) != string(mustJSON(t, lc)) {
		t.Error("EDF and CSV generation gave different labels")
	}
	rec := parseCSV(t, csvData)
	src, err := decode.OpenFile(path, "edf", decode.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m := src.Meta()
	if len(m.Channels) != 4 || m.Channels[0].Kind != pipeline.KindEMG || m.Channels[0].RateHz != 500 || m.Channels[1].RateHz != 50 {
		t.Fatalf("channels %+v", m.Channels)
	}
	b := pipeline.NewBatch(4, 1024)
	var ei, ai int
	for {
		err := src.Next(t.Context(), b)
		for _, fr := range b.Frames {
			if v := fr.Values[0]; !pipeline.IsNoSample(v) {
				if ei < len(rec.emg) && math.Abs(v-rec.emg[ei]) > 0.0006 {
					t.Fatalf("EMG sample %d: EDF %g, CSV %g", ei, v, rec.emg[ei])
				}
				ei++
			}
			if v := fr.Values[1]; !pipeline.IsNoSample(v) {
				if ai < len(rec.acc) && math.Abs(v-rec.acc[ai][0]) > 0.0003 {
					t.Fatalf("acc sample %d: EDF %g, CSV %g", ai, v, rec.acc[ai][0])
				}
				ai++
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if ei != len(rec.emg) || ai != len(rec.acc) {
		t.Errorf("EDF held %d EMG and %d acc samples, CSV %d and %d", ei, ai, len(rec.emg), len(rec.acc))
	}
	sc.AccRate = 33.5
	if _, err := GenerateEDF(sc, 6, io.Discard); err == nil || !strings.Contains(err.Error(), "whole-number rates") {
		t.Errorf("fractional rate: %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTwitchPeaksOnSamples checks at low EMG rates that every labelled
// twitch shows its labelled peak on the samples themselves: the label
// never promises what falls between samples.
func TestTwitchPeaksOnSamples(t *testing.T) {
	for _, rate := range []float64{250, 500} {
		t.Run(fmt.Sprintf("%gHz", rate), func(t *testing.T) {
			sc := mustPreset(t, "running-fades").Scaled(4)
			sc.EMGRate, sc.MainsHz, sc.WanderUV, sc.NoiseUV, sc.PopsPerMin = rate, 0, 0, 1, 0
			data, l := generateBytes(t, sc, 12)
			r := parseCSV(t, data)
			if len(l.Twitches) < 5 {
				t.Fatalf("only %d twitches", len(l.Twitches))
			}
			for _, tw := range l.Twitches {
				a, b := float64(tw.Start-l.Start)/1e9, float64(tw.End-l.Start)/1e9
				var peak float64
				for i, tm := range r.t {
					if tm >= a && tm <= b {
						peak = math.Max(peak, math.Abs(r.emg[i]))
					}
				}
				want := tw.PeakUV / 1000
				if tw.PeakUV < 50 || peak < want-0.006 || peak > want*1.6+0.006 {
					t.Errorf("twitch at %.3f s: sampled peak %.1f µV, labelled %.1f µV", a, peak*1000, tw.PeakUV)
				}
			}
		})
	}
}
