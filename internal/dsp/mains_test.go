package dsp

import (
	"math"
	"math/rand/v2"
	"testing"
)

// mainsCase builds a block of n samples at fs: white noise of standard
// deviation noise, optional band-limited "EMG" bursts, and sines at the
// given frequencies and amplitudes.
type tone struct{ f, amp float64 }

func makeBlock(t *testing.T, seed uint64, n int, fs, noise float64, emg bool, tones []tone) []float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float64, n)
	var bp *SOS
	if emg {
		bp = must(t)(ButterBandpass(4, 20, math.Min(450, 0.45*fs), fs))
	}
	for i := range x {
		x[i] = 300 + noise*rng.NormFloat64() // an offset, as raw ADC counts have
		if emg {
			// a burst in the middle third of the block, 20x the noise, band-limited
			e := bp.Step(rng.NormFloat64())
			if i > n/3 && i < 2*n/3 {
				x[i] += 20 * noise * e
			}
		}
		for _, tn := range tones {
			x[i] += tn.amp * math.Sin(2*math.Pi*tn.f*float64(i)/fs+0.3)
		}
	}
	return x
}

func TestMainsDetector(t *testing.T) {
	const minRatio = 10
	cases := []struct {
		name  string
		n     int
		fs    float64
		emg   bool
		tones []tone
		want  float64
	}{
		{"noise_plus_50", 4096, 1000, false, []tone{{50, 0.5}}, 50},
		{"noise_plus_50_off_by_0.3Hz", 4096, 1000, false, []tone{{50.3, 0.5}}, 50},
		{"noise_plus_60_with_harmonics", 4096, 1000, false, []tone{{60, 0.5}, {180, 0.4}, {300, 0.3}, {420, 0.3}}, 60},
		{"noise_plus_60_harmonics_only", 4096, 1000, false, []tone{{180, 1}, {420, 1}}, 60},
		{"emg_burst_plus_strong_50", 4096, 1000, true, []tone{{50, 10}, {150, 3}}, 50},
		{"fs250_noise_plus_60", 2048, 250, false, []tone{{60, 1}}, 60},
		{"fs250_noise_plus_50", 2048, 250, false, []tone{{50, 1}}, 50},
		{"fs200_noise_plus_50", 2048, 200, false, []tone{{50, 1}}, 50},
		{"pure_noise", 4096, 1000, false, nil, 0},
		{"pure_noise_fs250", 2048, 250, false, nil, 0},
		{"emg_burst_no_mains", 4096, 1000, true, nil, 0},
		{"emg_burst_no_mains_fs250", 2048, 250, true, nil, 0},
		{"tone_at_55_is_not_mains", 4096, 1000, false, []tone{{55, 1}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewMainsDetector(c.n, c.fs)
			for seed := range uint64(10) {
				x := makeBlock(t, seed, c.n, c.fs, 1, c.emg, c.tones)
				f, ratio := d.Detect(x, minRatio)
				if f != c.want {
					t.Errorf("seed %d: detected %g Hz (ratio %.2f), want %g", seed, f, ratio, c.want)
				}
				if c.want == 0 && ratio > 5 {
					t.Errorf("seed %d: no mains, yet ratio %.2f (want near 1)", seed, ratio)
				}
			}
		})
	}
}

func TestMainsDetectorEdges(t *testing.T) {
	d := NewMainsDetector(1024, 1000)
	if f, r := d.Detect(make([]float64, 1024), 10); f != 0 || r != 0 {
		t.Errorf("silent block: %g Hz ratio %g, want 0, 0", f, r)
	}
	// fs 100: 50 Hz is Nyquist and 60 Hz above it: nothing to look at.
	low := NewMainsDetector(512, 100)
	x := makeBlock(t, 1, 512, 100, 1, false, []tone{{49, 1}})
	if f, r := low.Detect(x, 10); f != 0 || r != 0 {
		t.Errorf("fs 100: %g Hz ratio %g, want 0, 0", f, r)
	}
	defer func() {
		if recover() == nil {
			t.Error("Detect with a block of the wrong length did not panic")
		}
	}()
	d.Detect(make([]float64, 1000), 10)
}
