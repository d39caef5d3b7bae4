package dsp

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDesignErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name    string
		design  func() (*SOS, error)
		mention string // a word the message must contain
	}{
		{"lowpass_order_0", func() (*SOS, error) { return ButterLowpass(0, 10, 100) }, "order 0"},
		{"lowpass_order_negative", func() (*SOS, error) { return ButterLowpass(-2, 10, 100) }, "order -2"},
		{"lowpass_order_too_high", func() (*SOS, error) { return ButterLowpass(MaxButterOrder+1, 10, 100) }, "order"},
		{"lowpass_fc_zero", func() (*SOS, error) { return ButterLowpass(2, 0, 100) }, "cutoff 0"},
		{"lowpass_fc_negative", func() (*SOS, error) { return ButterLowpass(2, -5, 100) }, "cutoff -5"},
		{"lowpass_fc_at_nyquist", func() (*SOS, error) { return ButterLowpass(2, 50, 100) }, "cutoff 50"},
		{"lowpass_fc_above_nyquist", func() (*SOS, error) { return ButterLowpass(2, 80, 100) }, "(0, 50)"},
		{"lowpass_fc_nan", func() (*SOS, error) { return ButterLowpass(2, nan, 100) }, "NaN"},
		{"lowpass_fs_zero", func() (*SOS, error) { return ButterLowpass(2, 10, 0) }, "sampling rate 0"},
		{"lowpass_fs_negative", func() (*SOS, error) { return ButterLowpass(2, 10, -100) }, "sampling rate"},
		{"lowpass_fs_inf", func() (*SOS, error) { return ButterLowpass(2, 10, inf) }, "sampling rate"},
		{"lowpass_fs_nan", func() (*SOS, error) { return ButterLowpass(2, 10, nan) }, "sampling rate"},
		{"highpass_order_0", func() (*SOS, error) { return ButterHighpass(0, 0.5, 50) }, "highpass"},
		{"highpass_fc_above_nyquist", func() (*SOS, error) { return ButterHighpass(2, 30, 50) }, "cutoff 30"},
		{"bandpass_lo_above_hi", func() (*SOS, error) { return ButterBandpass(4, 450, 20, 1000) }, "lower edge 450"},
		{"bandpass_lo_equals_hi", func() (*SOS, error) { return ButterBandpass(4, 100, 100, 1000) }, "below upper edge"},
		{"bandpass_hi_at_nyquist", func() (*SOS, error) { return ButterBandpass(4, 20, 500, 1000) }, "upper edge 500"},
		{"bandpass_lo_zero", func() (*SOS, error) { return ButterBandpass(4, 0, 450, 1000) }, "lower edge 0"},
		{"bandpass_fs_zero", func() (*SOS, error) { return ButterBandpass(4, 20, 450, 0) }, "sampling rate"},
		{"bandpass_order_0", func() (*SOS, error) { return ButterBandpass(0, 20, 450, 1000) }, "order 0"},
		{"notch_f0_zero", func() (*SOS, error) { return Notch(0, 30, 1000) }, "centre frequency 0"},
		{"notch_f0_at_nyquist", func() (*SOS, error) { return Notch(500, 30, 1000) }, "centre frequency 500"},
		{"notch_q_zero", func() (*SOS, error) { return Notch(50, 0, 1000) }, "quality factor 0"},
		{"notch_q_negative", func() (*SOS, error) { return Notch(50, -3, 1000) }, "quality factor -3"},
		{"notch_q_nan", func() (*SOS, error) { return Notch(50, nan, 1000) }, "quality factor NaN"},
		{"notch_fs_zero", func() (*SOS, error) { return Notch(50, 30, 0) }, "sampling rate"},
		{"comb_harmonics_0", func() (*SOS, error) { return CombNotch(50, 0, 30, 1000) }, "harmonics 0"},
		{"comb_f0_above_0.95_nyquist", func() (*SOS, error) { return CombNotch(50, 3, 30, 104) }, "0.95 Nyquist"},
		{"comb_f0_above_nyquist", func() (*SOS, error) { return CombNotch(60, 3, 30, 100) }, "centre frequency 60"},
		{"comb_q_zero", func() (*SOS, error) { return CombNotch(50, 3, 0, 1000) }, "quality factor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := c.design()
			if err == nil {
				t.Fatalf("no error; got a filter with %d sections", len(s.Sections()))
			}
			if s != nil {
				t.Errorf("non-nil filter returned with error %v", err)
			}
			if !errors.Is(err, ErrParam) {
				t.Errorf("error %q does not wrap ErrParam", err)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("error %q does not mention %q", err, c.mention)
			}
		})
	}
}

func TestConstructorPanics(t *testing.T) {
	cases := []struct {
		name string
		f    func()
	}{
		{"moving_rms_0", func() { NewMovingRMS(0) }},
		{"moving_average_negative", func() { NewMovingAverage(-1) }},
		{"robust_window_0", func() { NewRobustWindow(0) }},
		{"quantile_above_1", func() { r := NewRobustWindow(3); r.Push(1); r.Quantile(1.5) }},
		{"quantile_nan", func() { r := NewRobustWindow(3); r.Push(1); r.Quantile(math.NaN()) }},
		{"one_pole_fs_0", func() { NewOnePole(1, 0) }},
		{"mains_tiny_block", func() { NewMainsDetector(8, 1000) }},
		{"mains_fs_0", func() { NewMainsDetector(1024, 0) }},
		{"filter_dst_length", func() { NewSOS(nil).Filter(make([]float64, 2), make([]float64, 3)) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("did not panic")
				}
				if msg, ok := r.(string); !ok || !strings.HasPrefix(msg, "dsp: ") {
					t.Errorf("panic %v does not start with \"dsp: \"", r)
				}
			}()
			c.f()
		})
	}
}

func TestNoAllocationsPerSample(t *testing.T) {
	bp := must(t)(ButterBandpass(4, 20, 450, 1000))
	comb := must(t)(CombNotch(50, 9, 30, 1000))
	rms := NewMovingRMS(100)
	avg := NewMovingAverage(100)
	var tk TKEO
	op := NewOnePole(0.1, 1000)
	rw := NewRobustWindow(600)
	sq := NewSlidingQuantiles(600, 1e-3, 1e3, 0.02, 0.05, 0.5)
	md := NewMainsDetector(4096, 1000)
	block := makeBlock(t, 1, 4096, 1000, 1, false, []tone{{50, 1}})
	x := 0.0
	cases := []struct {
		name string
		f    func()
	}{
		{"bandpass_step", func() { x = bp.Step(x + 1) }},
		{"comb_step", func() { x = comb.Step(x + 1) }},
		{"moving_rms_step", func() { x = rms.Step(x + 1) }},
		{"moving_average_step", func() { x = avg.Step(x + 1) }},
		{"tkeo_step", func() { x = tk.Step(x + 1) }},
		{"one_pole_step", func() { x = op.Step(x + 1) }},
		{"robust_push_median_mad_quantile", func() { rw.Push(x); x = rw.Median() + rw.MAD() + rw.Quantile(0.9) }},
		{"sliding_quantiles_push", func() { sq.Push(x); x = sq.Quantile(0) + sq.Quantile(1) }},
		{"mains_detect", func() { f, r := md.Detect(block, 10); x = f + r }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if a := testing.AllocsPerRun(200, c.f); a != 0 {
				t.Errorf("%g allocations per call, want 0", a)
			}
		})
	}
}
