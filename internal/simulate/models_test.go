package simulate

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/cmplx"
	"runtime"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

// TestPotentialShapes checks the waveforms of 1 to 6 phases: peak
// magnitude 1, order sign changes (so order+1 phases), nearly zero at the
// half width, and the largest phase where alignToSample puts a sample.
func TestPotentialShapes(t *testing.T) {
	for order := 0; order <= maxOrder; order++ {
		var peak float64
		changes, sign := 0, 0.0
		for q := -8.0; q <= 8; q += 1e-3 {
			v := potentialShape(q, order)
			peak = math.Max(peak, math.Abs(v))
			if math.Abs(v) > 1e-4 {
				if s := math.Copysign(1, v); sign != 0 && s != sign {
					changes++
				}
				sign = math.Copysign(1, v)
			}
		}
		if math.Abs(peak-1) > 1e-3 {
			t.Errorf("order %d: peak %g", order, peak)
		}
		if changes != order {
			t.Errorf("order %d: %d sign changes (%d phases), want %d phases", order, changes, changes+1, order+1)
		}
		// The presets' bi- and triphasic potentials keep their historical
		// truncation (5.5 and 2.5 % at 3 and 3.5 sigma).
		h := halfWidth(order)
		if e := math.Max(math.Abs(potentialShape(h, order)), math.Abs(potentialShape(-h, order))); e > 0.06 || (order > 2 && e > 0.02) {
			t.Errorf("order %d: %.3f of the peak left at ±%g sigma", order, e, h)
		}
		q := hermiteArg[order]
		if order == 1 {
			q = 1
		}
		if v := math.Abs(potentialShape(q, order)); math.Abs(v-1) > 1e-3 {
			t.Errorf("order %d: |shape| %g at the aligned instant %g", order, v, q)
		}
	}
}

// TestHermiteExtrema checks the tabulated extrema against a fine scan.
func TestHermiteExtrema(t *testing.T) {
	for k := 0; k <= maxOrder; k++ {
		var peak, arg float64
		for q := 0.0; q <= 6; q += 1e-5 {
			if v := math.Abs(hermite(k, q)) * math.Exp(-0.5*q*q); v > peak {
				peak, arg = v, q
			}
		}
		if math.Abs(peak-hermitePeak[k]) > 1e-9 || math.Abs(arg-hermiteArg[k]) > 2e-5 {
			t.Errorf("He_%d: peak %.12f at %.6f, tabulated %.12f at %.6f", k, peak, arg, hermitePeak[k], hermiteArg[k])
		}
	}
}

// wideScenario is a clean recording with the families' twitch model, so
// that labels can be compared with the samples.
func wideScenario(emgRate float64) Scenario {
	sc, _ := Preset("running-fades")
	sc = sc.Scaled(3)
	sc.EMGRate, sc.AccRate = emgRate, 200
	sc.MainsHz, sc.WanderUV, sc.NoiseUV, sc.PopsPerMin, sc.FidgetsPerMin, sc.PosturePerMin = 0, 0, 1, 0, 0, 0
	sc.AccNoiseMg, sc.AccBits, sc.AccRangeG = 0, 24, 8
	sc.Twitch = TwitchSpec{Pattern: PatternPersists, RatePerMin: 30, AccFraction: 1, Shape: &TwitchShape{
		Phases: R(1, 6), Ms: R(2, 25), UV: R(20, 1000), MinSNR: 8, JerkHz: R(5, 25), JerkMg: R(5, 100), JerkTauMs: R(20, 150)}}
	return sc
}

// TestWideTwitchesOnSamples checks the wide model's labels against the
// recording at a low and a high EMG rate: every potential's labelled peak
// is on the samples and at least MinSNR times the noise, every jerk's
// labelled peak is the accelerometer's bump, and 1 to 6 phases occur.
func TestWideTwitchesOnSamples(t *testing.T) {
	for _, rate := range []float64{250, 4000} {
		t.Run(fmt.Sprintf("%gHz", rate), func(t *testing.T) {
			sc := wideScenario(rate)
			data, l := generateBytes(t, sc, 21)
			r := parseCSV(t, data)
			if len(l.Twitches) < 20 {
				t.Fatalf("only %d twitches", len(l.Twitches))
			}
			phases := map[int]bool{}
			floor := sc.Twitch.Shape.MinSNR * EMGNoiseUV(sc)
			band := surfaceBand(rate).Filter(nil, r.emg)
			for _, tw := range l.Twitches {
				phases[tw.PotentialPhases] = true
				// Stretched so that the main frequency is at most 350 Hz.
				k := float64(tw.PotentialPhases - 1)
				if minDur := 2 * halfWidth(int(k)) * math.Sqrt(k) / (2 * math.Pi * maxSurfaceHz); tw.Potentials == 1 && float64(tw.End-tw.Start)/1e9 < minDur-1e-6 {
					t.Errorf("%d-phase potential of %.2f ms: shorter than %.2f ms", tw.PotentialPhases, float64(tw.End-tw.Start)/1e6, minDur*1000)
				}
				a, b := float64(tw.Start-l.Start)/1e9, float64(tw.End-l.Start)/1e9
				var peak float64
				for i, tm := range r.t {
					if tm >= a && tm <= b {
						peak = math.Max(peak, math.Abs(r.emg[i]))
					}
				}
				want := tw.PeakUV / 1000
				if peak < want-0.004 || peak > want*1.6+0.004 {
					t.Errorf("twitch at %.3f s (%d phases): sampled peak %.1f µV, labelled %.1f µV", a, tw.PotentialPhases, peak*1000, tw.PeakUV)
				}
				// In the surface band: at least the floor, and what a
				// band-pass of the recording shows.
				var inBand float64
				for i, tm := range r.t {
					if tm >= a && tm <= b+0.06 {
						inBand = math.Max(inBand, math.Abs(band[i]))
					}
				}
				if tw.BandPeakUV < floor-0.1 || inBand*1000 < 0.8*tw.BandPeakUV-3 || inBand*1000 > 1.6*tw.BandPeakUV+3 {
					t.Errorf("twitch at %.3f s (%d phases): %.1f µV in the 20-450 Hz band, labelled %.1f µV (floor %.1f)", a, tw.PotentialPhases, inBand*1000, tw.BandPeakUV, floor)
				}
				if !tw.InAcc || tw.AccNoiseMg != round3(AccNoiseMg(sc)) {
					t.Fatalf("twitch at %.3f s: in_acc %v, noise %g", a, tw.InAcc, tw.AccNoiseMg)
				}
				bump := r.accBump(float64(tw.AccStart-l.Start)/1e9-0.02, float64(tw.AccEnd-l.Start)/1e9+0.05) * 1000
				if math.Abs(bump-tw.AccPeakMg) > 0.1*tw.AccPeakMg+0.3 {
					t.Errorf("twitch at %.3f s: acc bump %.2f mg, labelled %.2f mg", a, bump, tw.AccPeakMg)
				}
			}
			if len(phases) < 5 {
				t.Errorf("potentials of %v phases only", phases)
			}
		})
	}
}

// TestGenerateCSVOutputs checks that the EMG-only and accelerometer-only
// streams are the full recording's columns, row for row.
func TestGenerateCSVOutputs(t *testing.T) {
	f, _ := FamilyByName("sets-held")
	sc := f.DrawShort(2).Scaled(0.5)
	var both, emg, acc, plain bytes.Buffer
	l, err := GenerateCSV(sc, 2, Outputs{Both: &both, EMG: &emg, Acc: &acc})
	if err != nil {
		t.Fatal(err)
	}
	l2, _ := Generate(sc, 2, &plain)
	if !bytes.Equal(both.Bytes(), plain.Bytes()) || string(mustJSON(t, l)) != string(mustJSON(t, l2)) {
		t.Fatal("GenerateCSV's full stream differs from Generate's")
	}
	bl := strings.Split(strings.TrimSpace(both.String()), "\n")
	el := strings.Split(strings.TrimSpace(emg.String()), "\n")
	al := strings.Split(strings.TrimSpace(acc.String()), "\n")
	if el[1] != CSVHeaderEMG || al[1] != CSVHeaderAcc || !strings.HasSuffix(el[0], "columns=emg") || !strings.HasSuffix(al[0], "columns=acc") {
		t.Fatalf("headers %q %q / %q %q", el[0], el[1], al[0], al[1])
	}
	if len(el) != len(bl) {
		t.Fatalf("%d EMG lines for %d", len(el), len(bl))
	}
	k := 2
	for i := 2; i < len(bl); i++ {
		f := strings.Split(bl[i], ",")
		if el[i] != f[0]+","+f[1] {
			t.Fatalf("line %d: EMG %q from %q", i, el[i], bl[i])
		}
		if f[2] != "" {
			if want := f[0] + "," + strings.Join(f[2:], ","); k >= len(al) || al[k] != want {
				t.Fatalf("acc row %d: %q, want %q", k, al[min(k, len(al)-1)], want)
			}
			k++
		}
	}
	if k != len(al) {
		t.Errorf("%d acc rows, %d in the full stream", len(al)-2, k-2)
	}
}

// TestEMGQuantised checks the EMG converter: every value on its grid,
// clipped to the range.
func TestEMGQuantised(t *testing.T) {
	sc := mustPreset(t, "bundled-calf").Scaled(0.5)
	sc.EMGBits, sc.EMGRangeMV, sc.PopsPerMin = 12, 1, 6
	r := parseCSV(t, mustGenerate(t, sc, 3))
	lsb := 2 * sc.EMGRangeMV / 4096
	var top float64
	levels := map[int64]bool{}
	for i, v := range r.emg {
		n := math.Round(v / lsb)
		if math.Abs(v-n*lsb) > 6e-6 {
			t.Fatalf("sample %d: %g mV is not a multiple of %g", i, v, lsb)
		}
		levels[int64(n)] = true
		top = math.Max(top, math.Abs(v))
	}
	if top > sc.EMGRangeMV+1e-9 || top < sc.EMGRangeMV-lsb-1e-9 {
		t.Errorf("largest |EMG| %g mV: want clipped at ±%g (vigorous running and pops exceed it)", top, sc.EMGRangeMV)
	}
	if len(levels) < 100 {
		t.Errorf("only %d levels", len(levels))
	}
}

func mustGenerate(t *testing.T, sc Scenario, seed int64) []byte {
	t.Helper()
	b, _ := generateBytes(t, sc, seed)
	return b
}

// TestMounting checks that a rotated sensor sees the same acceleration
// magnitudes (ENMO is unchanged) in other axes.
func TestMounting(t *testing.T) {
	sc := mustPreset(t, "bundled-calf").Scaled(0.5)
	sc.AccNoiseMg, sc.AccBits = 0, 24
	a := parseCSV(t, mustGenerate(t, sc, 4))
	sc.MountDeg = [3]float64{30, -60, 120}
	b := parseCSV(t, mustGenerate(t, sc, 4))
	var maxDiff, moved float64
	for i := range a.acc {
		na, nb := norm3(a.acc[i]), norm3(b.acc[i])
		maxDiff = math.Max(maxDiff, math.Abs(na-nb))
		moved = math.Max(moved, math.Abs(a.acc[i][0]-b.acc[i][0]))
	}
	if maxDiff > 2e-5 {
		t.Errorf("magnitudes differ by up to %g g", maxDiff)
	}
	if moved < 0.3 {
		t.Errorf("x axis changed by at most %g g: rotation not applied", moved)
	}
}

func norm3(v [3]float64) float64 { return math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2]) }

// mainsOnly is a rest recording holding nothing but mains interference.
func mainsOnly(driftHz, driftFrac float64) Scenario {
	sc, _ := Preset("quiet-rest")
	sc = sc.Scaled(5)
	sc.NoiseUV, sc.WanderUV, sc.PopsPerMin, sc.FidgetsPerMin, sc.PosturePerMin = 0, 0, 0, 0, 0
	sc.MainsHz, sc.MainsUV, sc.MainsDriftHz, sc.MainsDriftFrac = 50, 100, driftHz, driftFrac
	return sc
}

// TestMainsDrift demodulates the fundamental in 0.2 s blocks: without
// drift it stays at 50 Hz; with drift its frequency wanders by tenths of
// a hertz and its amplitude by tens of per cent, within the settings.
func TestMainsDrift(t *testing.T) {
	for _, c := range []struct {
		hz, frac                 float64
		minSpread, maxDev, minAR float64
	}{{0, 0, 0, 0.02, 1}, {0.4, 0.5, 0.4, 0.45, 1.8}} {
		r := parseCSV(t, mustGenerate(t, mainsOnly(c.hz, c.frac), 5))
		const block = 200 // samples at 1 kHz
		var prev complex128
		lo, hi := math.Inf(1), math.Inf(-1)
		ampLo, ampHi := math.Inf(1), math.Inf(-1)
		for k := 0; (k+1)*block <= len(r.emg); k++ {
			var z complex128
			for i := k * block; i < (k+1)*block; i++ {
				z += complex(r.emg[i], 0) * cmplx.Exp(complex(0, -2*math.Pi*50*r.t[i]))
			}
			if k > 0 {
				f := 50 + cmplx.Phase(z/prev)/(2*math.Pi*0.2)
				lo, hi = math.Min(lo, f), math.Max(hi, f)
			}
			ampLo, ampHi = math.Min(ampLo, cmplx.Abs(z)), math.Max(ampHi, cmplx.Abs(z))
			prev = z
		}
		if hi-lo < c.minSpread || math.Max(50-lo, hi-50) > c.maxDev {
			t.Errorf("drift %g Hz: frequency %.3f..%.3f Hz", c.hz, lo, hi)
		}
		if c.frac > 0 && ampHi/ampLo < c.minAR {
			t.Errorf("drift %g: amplitude varies by %.2fx only", c.frac, ampHi/ampLo)
		}
	}
}

// TestTremor checks the tremor-like bursts: labelled, at the drawn
// frequency in the accelerometer, with EMG bursts, and never a twitch.
func TestTremor(t *testing.T) {
	sc := mustPreset(t, "quiet-rest").Scaled(3)
	sc.AccRate, sc.TremorPerMin, sc.TremorHz = 100, 6, R(5, 6)
	sc.AccNoiseMg, sc.FidgetsPerMin, sc.PosturePerMin, sc.PopsPerMin, sc.MainsHz, sc.WanderUV = 1, 0, 0, 0, 0, 0
	data, l := generateBytes(t, sc, 6)
	r := parseCSV(t, data)
	n := 0
	for _, a := range l.Artifacts {
		if a.Kind != ArtifactTremor {
			continue
		}
		n++
		s, e := float64(a.Start-l.Start)/1e9, float64(a.End-l.Start)/1e9
		if f := dominantAccHz(r, s+0.25*(e-s), s+0.75*(e-s)); f < 4.6 || f > 6.4 {
			t.Errorf("tremor at %.1f s: acc oscillates at %.2f Hz, want 5..6", s, f)
		}
		if rms := r.rms(s+0.25*(e-s), s+0.75*(e-s)); rms < 1.8*r.rms(1, 3) {
			t.Errorf("tremor at %.1f s: EMG RMS %.4f mV, floor %.4f", s, rms, r.rms(1, 3))
		}
	}
	if n < 5 || len(l.Twitches) != 0 {
		t.Errorf("%d tremor bursts, %d twitches", n, len(l.Twitches))
	}
}

// dominantAccHz returns the frequency (2-12 Hz) with the most power in
// the x axis of the accelerometer between a and b.
func dominantAccHz(r *recording, a, b float64) float64 {
	var x, ts []float64
	var mean float64
	for i, tm := range r.accT {
		if tm >= a && tm < b {
			v := r.acc[i][0] + r.acc[i][1] + r.acc[i][2]
			x, ts, mean = append(x, v), append(ts, tm), mean+v
		}
	}
	mean /= float64(len(x))
	for i := range x {
		x[i] -= mean // gravity would leak into every low frequency
	}
	best, bestP := 0.0, -1.0
	for f := 2.0; f <= 12; f += 0.05 {
		var z complex128
		for i := range x {
			z += complex(x[i], 0) * cmplx.Exp(complex(0, -2*math.Pi*f*ts[i]))
		}
		if p := cmplx.Abs(z); p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

// TestCadence checks that each rhythmic activity's EMG envelope repeats
// at the phase's cadence (strides, pedal strokes, repetitions; a
// repetition has a concentric and an eccentric burst, so its envelope
// may peak at twice the cadence).
func TestCadence(t *testing.T) {
	for _, c := range []struct {
		act, site string
		hz        float64
	}{{ActivityWalking, "calf_left", 0.75}, {ActivityRunning, "calf_left", 1.7}, {ActivityCycling, "thigh_left", 0.9}, {ActivityLifting, "forearm_right", 0.2}} {
		t.Run(c.act, func(t *testing.T) {
			sc := mustPreset(t, "quiet-rest")
			sc.Site, sc.EMGRate, sc.NoiseUV, sc.MainsHz, sc.PopsPerMin = c.site, 500, 2, 0, 0
			sc.Phases = []PhaseSpec{{Name: PhaseExercise, Activity: c.act, Intensity: "moderate", Seconds: 60, CadenceHz: c.hz, BurstMs: 200}}
			data, l := generateBytes(t, sc, 7)
			if l.Phases[0].CadenceHz != c.hz {
				t.Errorf("labelled cadence %g", l.Phases[0].CadenceHz)
			}
			r := parseCSV(t, data)
			var env, ts []float64
			for a := 5.0; a < 55; a += 0.05 {
				env, ts = append(env, r.rms(a, a+0.05)), append(ts, a)
			}
			best, bestP := 0.0, -1.0
			for f := 0.1; f <= 2.5; f += 0.005 {
				var z complex128
				for i := range env {
					z += complex(env[i], 0) * cmplx.Exp(complex(0, -2*math.Pi*f*ts[i]))
				}
				if p := cmplx.Abs(z); p > bestP {
					best, bestP = f, p
				}
			}
			if k := math.Round(best / c.hz); (k != 1 && (k != 2 || c.act != ActivityLifting)) || math.Abs(best-k*c.hz) > 0.03*k*c.hz+0.01 {
				t.Errorf("EMG envelope repeats at %.3f Hz, cadence %g", best, c.hz)
			}
		})
	}
}

// TestWalkingIntensity measures ENMO while walking at each intensity on
// the calf: the walking model stays light to moderate (README).
func TestWalkingIntensity(t *testing.T) {
	for i, in := range []string{"light", "moderate", "vigorous"} {
		sc := mustPreset(t, "quiet-rest")
		sc.Site, sc.AccRate = "calf_left", 50
		sc.Phases = []PhaseSpec{{Name: PhaseExercise, Activity: ActivityWalking, Intensity: in, Seconds: 40}}
		r := parseCSV(t, mustGenerate(t, sc, int64(8+i)))
		e := r.enmo(5, 35)
		t.Logf("walking %s: ENMO %.0f mg", in, e)
		if e < 30 || e > 250 {
			t.Errorf("walking %s: ENMO %.0f mg, want light to moderate (30..250)", in, e)
		}
	}
}

// TestSetsAndStrolls checks what the families build: sets with pauses
// make one bout, the pauses are still, strolls are no bout, and no twitch
// falls in a pause or a stroll.
func TestSetsAndStrolls(t *testing.T) {
	sets, _ := FamilyByName("sets-tune")
	sc := sets.DrawShort(sets.ShortSeeds()[1])
	l, _ := PlanLabels(sc, sets.ShortSeeds()[1])
	pauses := 0
	for _, p := range l.Phases {
		if p.Name == PhaseSetRest {
			pauses++
		}
	}
	if pauses < 2 || len(l.Bouts) != 2 || l.Bouts[0].Sets+l.Bouts[1].Sets != pauses+2 {
		t.Fatalf("%d pauses, bouts %+v", pauses, l.Bouts)
	}
	walk, _ := FamilyByName("walk-held")
	seed := walk.ShortSeeds()[1]
	wl, _ := PlanLabels(walk.DrawShort(seed), seed)
	strolls := 0
	for _, p := range wl.Phases {
		if p.Name == PhaseStroll {
			strolls++
			for _, b := range wl.Bouts {
				if p.Start >= b.Start && p.End <= b.End {
					t.Errorf("stroll at %s inside bout %s..%s", p.Start, b.Start, b.End)
				}
			}
		}
	}
	if strolls == 0 || len(wl.Bouts) != 1 {
		t.Errorf("%d strolls, %d bouts", strolls, len(wl.Bouts))
	}
	for _, ll := range []*Labels{l, wl} {
		for _, tw := range ll.Twitches {
			if p := ll.PhaseAt(tw.Start); p == nil || p.Name != PhaseRest {
				t.Errorf("twitch at %s in %v", tw.Start, p)
			}
		}
	}
	// The pauses are still: generate the sets at 500 Hz and look inside.
	sc.EMGRate = 500
	data, gl := generateBytes(t, sc, sets.ShortSeeds()[1])
	r := parseCSV(t, data)
	sec := func(ts pipeline.Timestamp) float64 { return float64(ts-gl.Start) / 1e9 }
	for _, p := range gl.Phases {
		if p.Name != PhaseSetRest {
			continue
		}
		a, b := sec(p.Start)+4, sec(p.End)-4
		if b-a < 3 {
			continue
		}
		if e := r.enmo(a, b); e > 40 {
			t.Errorf("pause at %.0f s: ENMO %.0f mg", a, e)
		}
	}
}

// TestLabelsSchemaV1 reads a version 1 labels file: accepted, without
// expectations per modality, every in_acc twitch visible.
func TestLabelsSchemaV1(t *testing.T) {
	v1 := `{"schema":"twitchd-labels/1","scenario":"x","seed":1,"settings":{"name":"x"},"start":"2026-11-25T10:00:00.000000000Z","end":"2026-11-25T10:01:00.000000000Z",
"phases":[],"twitches":[{"start":"2026-11-25T10:00:10.000000000Z","end":"2026-11-25T10:00:10.010000000Z","peak_uv":80,"potentials":1,"in_acc":true,"acc_peak_mg":20,"phase":"rest"}],
"cramps":[],"artifacts":[],"bouts":[],"expected_status":"none"}`
	l, err := ReadLabels(strings.NewReader(v1), "old.json")
	if err != nil {
		t.Fatal(err)
	}
	if l.Expected != nil || l.ExpectedStatus != StatusNone || !l.Twitches[0].AccVisible(AccVisibleSNR) {
		t.Errorf("v1 labels read as %+v", l)
	}
}

// TestBoundedMemoryFamilies generates a held-out family scenario with
// every device model on, into three streams at 4 kHz: no allocation per
// sample.
func TestBoundedMemoryFamilies(t *testing.T) {
	if testing.Short() {
		t.Skip("long generation")
	}
	f, _ := FamilyByName("run-held")
	sc := f.DrawShort(1).Scaled(5)
	sc.EMGRate, sc.AccRate = 4000, 200
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := GenerateCSV(sc, 1, Outputs{Both: io.Discard, EMG: io.Discard, Acc: io.Discard}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	rows := sc.Seconds() * sc.EMGRate
	if alloc := float64(after.TotalAlloc - before.TotalAlloc); alloc/rows > 1 {
		t.Errorf("allocated %.0f bytes for %.0f rows: want no allocation per sample", alloc, rows)
	}
}

// BenchmarkGenerateFamily generates a held-out family scenario (mains
// drift, mounting, quantisation, tremor, sway, wide twitches) into the
// three streams the families suite replays.
func BenchmarkGenerateFamily(b *testing.B) {
	f, _ := FamilyByName("run-held")
	base := f.DrawShort(1).Scaled(0.5)
	for _, rate := range []float64{1000, 4000} {
		b.Run(fmt.Sprintf("%gHz", rate), func(b *testing.B) {
			sc := base
			sc.EMGRate = rate
			rows := sc.Seconds() * rate
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := GenerateCSV(sc, int64(i), Outputs{Both: io.Discard, EMG: io.Discard, Acc: io.Discard}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(rows*float64(b.N)), "ns/sample")
		})
	}
}
