package simulate

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

// drawAll returns every scenario the families suites use: each variant
// at full length and the short suite's variants short.
func drawAll(t testing.TB) (tune, held []Scenario) {
	for _, f := range Families() {
		var scs []Scenario
		for _, seed := range f.Seeds() {
			scs = append(scs, f.Draw(seed))
		}
		for _, seed := range f.ShortSeeds() {
			scs = append(scs, f.DrawShort(seed))
		}
		if f.Split == SplitTune {
			tune = append(tune, scs...)
		} else {
			held = append(held, scs...)
		}
	}
	return tune, held
}

// TestFamiliesDraw checks every family's draws: valid, named, of the
// length promised, deterministic, and with the variant's status, clear
// for every modality.
func TestFamiliesDraw(t *testing.T) {
	fams := Families()
	if len(fams) < 16 {
		t.Fatalf("%d families", len(fams))
	}
	fams = append(fams, TestFamilies()...)
	splits := map[Split]int{}
	for _, f := range fams {
		splits[f.Split]++
		if len(f.ShortSeeds()) != 2 {
			t.Errorf("%s: %d short variants, want 2", f.Name, len(f.ShortSeeds()))
		}
		for _, short := range []bool{false, true} {
			seeds := f.Seeds()
			if short {
				seeds = f.ShortSeeds()
			}
			for _, seed := range seeds {
				sc := f.Draw(seed)
				lo, hi := 3.0, 66.0
				if short {
					sc, lo, hi = f.DrawShort(seed), 3, 22
				}
				if err := sc.Validate(); err != nil {
					t.Fatalf("%s seed %d: %v", f.Name, seed, err)
				}
				if m := sc.Seconds() / 60; m < lo || m > hi {
					t.Errorf("%s seed %d (short %v): %.1f min, want %g..%g", f.Name, seed, short, m, lo, hi)
				}
				if sc.Family != f.Name || sc.Variant == "" || !strings.HasPrefix(sc.Name, f.Name) {
					t.Errorf("%s seed %d: named %q family %q variant %q", f.Name, seed, sc.Name, sc.Family, sc.Variant)
				}
				l, err := PlanLabels(sc, seed)
				if err != nil {
					t.Fatal(err)
				}
				want := f.Variants()[seed-1]
				if !strings.HasSuffix(want, "("+l.ExpectedStatus+")") {
					t.Errorf("%s seed %d: status %s, variant %s", f.Name, seed, l.ExpectedStatus, want)
				}
				if l.Expected.Ambiguous() {
					t.Errorf("%s seed %d: ambiguous: %+v", f.Name, seed, *l.Expected)
				}
				again := f.Draw(seed)
				if short {
					again = f.DrawShort(seed)
				}
				if a, b := mustJSON(t, sc), mustJSON(t, again); string(a) != string(b) {
					t.Errorf("%s seed %d: two draws differ", f.Name, seed)
				}
			}
		}
	}
	// One seed must not give two families the same device.
	devices := map[string]string{}
	for _, f := range fams {
		sc := f.DrawShort(3)
		key := fmt.Sprintf("%g %g %.6f %d", sc.EMGRate, sc.AccRate, sc.NoiseUV, sc.EMGBits)
		if other, dup := devices[key]; dup {
			t.Errorf("%s and %s drew the same device with seed 3", other, f.Name)
		}
		devices[key] = f.Name
	}
	if splits[SplitTune] != splits[SplitHeldOut] {
		t.Errorf("splits %v: want as many held-out families as tune ones", splits)
	}
	if _, err := FamilyByName("nope"); err == nil || !strings.Contains(err.Error(), "run-tune") {
		t.Errorf("unknown family: %v", err)
	}
}

// TestBandsSeparateSplits checks the bands themselves: no held-out tail
// reaches into the tune range.
func TestBandsSeparateSplits(t *testing.T) {
	for name, b := range bandsByName() {
		for _, h := range b.held {
			if h.Max > b.tune.Min && h.Min < b.tune.Max {
				t.Errorf("%s: held-out %g..%g overlaps tune %g..%g", name, h.Min, h.Max, b.tune.Min, b.tune.Max)
			}
		}
	}
}

func bandsByName() map[string]band {
	return map[string]band{
		"emg noise": bandEMGNoise, "acc noise": bandAccNoise, "wander": bandWander, "mains": bandMainsUV, "pops": bandPops,
		"motion": bandMotion, "run": bandRun, "walk": bandWalk, "cycle": bandCycle, "rep": bandRepS, "burst": bandBurstMs,
		"light": bandLightAmp, "set rest": bandSetRestS, "fidgets": bandFidgets, "posture": bandPosture, "tremor": bandTremorHz,
		"rate": bandRate, "acc fraction": bandAccFrac, "phases": bandPhases, "potential ms": bandPotMs, "potential uv": bandPotUV,
		"jerk hz": bandJerkHz, "jerk mg": bandJerkMg, "jerk tau": bandJerkTau,
	}
}

// inside reports whether v lies in r, or (strict) in its interior.
func inside(v float64, r Range, strict bool) bool {
	const eps = 1e-9
	if strict {
		return v > r.Min+eps && v < r.Max-eps
	}
	return v >= r.Min-eps && v <= r.Max+eps
}

// TestFamiliesSplitDraws checks what the families draw: tune scenarios
// within the tune bands and held-out ones outside them, for the device
// (rates, noise, resolution, mounting, mains drift) and the physiology
// (cadences, bursts, potentials, jerks).
func TestFamiliesSplitDraws(t *testing.T) {
	tune, held := drawAll(t)
	check := func(what string, held bool, v float64, b band) {
		t.Helper()
		if !held && !inside(v, b.tune, false) {
			t.Errorf("tune %s %g outside %g..%g", what, v, b.tune.Min, b.tune.Max)
		}
		if held && inside(v, b.tune, true) {
			t.Errorf("held-out %s %g inside the tune range %g..%g", what, v, b.tune.Min, b.tune.Max)
		}
	}
	checkRange := func(what string, held bool, r Range, b band) {
		t.Helper()
		check(what+" min", held, r.Min, b)
		check(what+" max", held, r.Max, b)
		if held && r.Min < b.tune.Min && r.Max > b.tune.Max {
			t.Errorf("held-out %s %g..%g spans the tune range", what, r.Min, r.Max)
		}
	}
	cadence := map[string]band{ActivityRunning: bandRun, ActivityWalking: bandWalk, ActivityCycling: bandCycle}
	for _, group := range []struct {
		held bool
		scs  []Scenario
	}{{false, tune}, {true, held}} {
		emgRates, accRates := map[float64]bool{}, map[float64]bool{}
		for _, sc := range group.scs {
			h := group.held
			emgRates[sc.EMGRate], accRates[sc.AccRate] = true, true
			if sc.Family != "noisy-tune" && sc.Family != "noisy-held" {
				check("EMG noise", h, sc.NoiseUV, bandEMGNoise)
			}
			check("acc noise", h, sc.AccNoiseMg, bandAccNoise)
			if (sc.EMGBits >= 16) == h || (sc.MainsDriftHz > 0) != h {
				t.Errorf("%s: EMG %d bits, mains drift %g Hz", sc.Name, sc.EMGBits, sc.MainsDriftHz)
			}
			maxMount := 0.0
			for _, a := range sc.MountDeg {
				maxMount = math.Max(maxMount, math.Abs(a))
			}
			if !h && maxMount > 15 {
				t.Errorf("%s: mounted %v°", sc.Name, sc.MountDeg)
			}
			sh := sc.Twitch.Shape
			checkRange("phases", h, sh.Phases, bandPhases)
			checkRange("potential ms", h, sh.Ms, bandPotMs)
			checkRange("potential µV", h, sh.UV, bandPotUV)
			checkRange("jerk Hz", h, sh.JerkHz, bandJerkHz)
			checkRange("jerk mg", h, sh.JerkMg, bandJerkMg)
			checkRange("jerk decay", h, sh.JerkTauMs, bandJerkTau)
			for _, p := range sc.Phases {
				if b, ok := cadence[p.Activity]; ok && p.Active() {
					check(p.Activity+" cadence", h, p.CadenceHz, b)
					check("burst", h, p.BurstMs, bandBurstMs)
				}
				if p.Activity == ActivityLifting {
					check("repetition", h, 1/p.CadenceHz, bandRepS)
				}
				if p.Name == PhaseSetRest {
					check("pause between sets", h, p.Seconds, bandSetRestS)
				}
			}
		}
		for r := range emgRates {
			if (r == 1000 || r == 2000) == group.held {
				t.Errorf("held-out %v: EMG at %g Hz", group.held, r)
			}
		}
		for r := range accRates {
			if (r == 50 || r == 100) == group.held {
				t.Errorf("held-out %v: acc at %g Hz", group.held, r)
			}
		}
	}
}

// TestFamiliesSpanTheIssue checks that the families together reach the
// ranges issue 9 asks for.
func TestFamiliesSpanTheIssue(t *testing.T) {
	tune, held := drawAll(t)
	all := append(tune, held...)
	lo := map[string]float64{}
	hi := map[string]float64{}
	see := func(k string, v float64) {
		if _, ok := lo[k]; !ok || v < lo[k] {
			lo[k] = v
		}
		if _, ok := hi[k]; !ok || v > hi[k] {
			hi[k] = v
		}
	}
	acts := map[string]bool{}
	for _, sc := range all {
		see("emg rate", sc.EMGRate)
		see("acc rate", sc.AccRate)
		see("noise", sc.NoiseUV)
		see("emg bits", float64(sc.EMGBits))
		see("acc bits", float64(sc.AccBits))
		see("minutes", sc.Seconds()/60)
		see("mains", sc.MainsHz)
		see("phases", sc.Twitch.Shape.Phases.Min)
		see("phases", sc.Twitch.Shape.Phases.Max)
		see("ms", sc.Twitch.Shape.Ms.Min)
		see("ms", sc.Twitch.Shape.Ms.Max)
		see("jerk", sc.Twitch.Shape.JerkHz.Min)
		see("jerk", sc.Twitch.Shape.JerkHz.Max)
		for _, p := range sc.Phases {
			acts[p.Activity+"/"+p.Name] = true
			if p.BurstMs > 0 {
				see("burst", p.BurstMs)
			}
			if p.Activity == ActivityWalking {
				see("walk", p.CadenceHz)
			}
			if p.Activity == ActivityCycling {
				see("cycle", p.CadenceHz)
			}
			if p.Activity == ActivityRunning {
				see("run", p.CadenceHz)
			}
			if p.Activity == ActivityLifting {
				see("rep", 1/p.CadenceHz)
			}
		}
	}
	for k, want := range map[string][2]float64{
		"emg rate": {250, 4000}, "acc rate": {25, 200}, "noise": {2.9, 20}, "emg bits": {12, 24}, "acc bits": {12, 22},
		"minutes": {6, 55}, "mains": {50, 60}, "phases": {1, 6}, "ms": {2, 25}, "jerk": {5, 25}, "burst": {70, 450},
		"walk": {0.75, 1.15}, "cycle": {0.9, 1.7}, "run": {1.22, 1.7}, "rep": {2.45, 4.1},
	} {
		if lo[k] > want[0] || hi[k] < want[1] {
			t.Errorf("%s spans %g..%g, want at least %g..%g", k, lo[k], hi[k], want[0], want[1])
		}
	}
	for _, a := range []string{"walking/warmup", "walking/cooldown", "walking/stroll", "walking/resumed", "running/exercise", "lifting/exercise", "none/set_rest", "cycling/exercise", "walking/exercise"} {
		if !acts[a] {
			t.Errorf("no %s phase in any family", a)
		}
	}
}

func TestFamilyJSONRoundTrip(t *testing.T) {
	f, err := FamilyByName("sets-held")
	if err != nil {
		t.Fatal(err)
	}
	sc := f.DrawShort(2)
	var back Scenario
	if err := json.Unmarshal(mustJSON(t, sc), &back); err != nil {
		t.Fatal(err)
	}
	a, _ := PlanLabels(sc, 2)
	b, _ := PlanLabels(back, 2)
	if string(mustJSON(t, a)) != string(mustJSON(t, b)) {
		t.Error("a family scenario does not survive a JSON round trip")
	}
}

// TestTestFamiliesDrawAnew checks that the sealed test families draw
// scenarios of their own: same kinds and held-out bands, other draws.
func TestTestFamiliesDrawAnew(t *testing.T) {
	held := map[string]Scenario{}
	for _, f := range Families() {
		if f.Split == SplitHeldOut {
			held[f.kind.name] = f.Draw(1)
		}
	}
	tf := TestFamilies()
	if len(tf) != len(held) {
		t.Fatalf("%d test families for %d held-out kinds", len(tf), len(held))
	}
	for _, f := range tf {
		if f.Split != SplitTest || !strings.HasSuffix(f.Name, "-test") {
			t.Errorf("%s: split %s", f.Name, f.Split)
		}
		sc, h := f.Draw(1), held[f.kind.name]
		if sc.NoiseUV == h.NoiseUV && sc.EMGRate == h.EMGRate && sc.Seconds() == h.Seconds() {
			t.Errorf("%s draws what %s-held draws", f.Name, f.kind.name)
		}
		if g, err := FamilyByName(f.Name); err != nil || g.Name != f.Name {
			t.Errorf("FamilyByName(%q) = %v, %v", f.Name, g.Name, err)
		}
	}
}
