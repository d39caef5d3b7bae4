package dsp

import (
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/dsp/window"
	"gonum.org/v1/gonum/floats"
)

// Mains detection bands, in Hz. The line band is wide enough for the Hann
// main lobe (two bins each side) and a mains frequency off by up to 0.5 Hz;
// the flanking bands end within 7 Hz of the line when bins are narrow
// (under 0.5 Hz), so they never reach the other mains frequency's lines
// (harmonics of 50 and 60 Hz are at least 10 Hz apart).
const (
	mainsLineHalfWidth = 0.5 // Hz each side of h·f, plus two bins
	mainsFlankWidth    = 6.0 // Hz of flanking band each side, at least four bins
)

// MainsDetector finds power-line interference in blocks of n samples at
// rate fs. It is built once for a size and reuses its window, FFT and
// spectrum buffers, so Detect allocates nothing. It is not safe for
// concurrent use.
//
// The bins are fs/n Hz wide. To tell 50 from 60 Hz reliably they should
// be 0.5 Hz or narrower, so use blocks of at least 2 s (n >= 2 fs); shorter
// blocks work with coarser bands and a noisier ratio.
type MainsDetector struct {
	n     int
	fs    float64
	win   window.Values
	fft   *fourier.FFT
	seq   []float64
	coef  []complex128
	power []float64
}

// NewMainsDetector returns a detector for blocks of n samples at fs Hz. It
// panics if n < 16 or fs is not positive and finite.
func NewMainsDetector(n int, fs float64) *MainsDetector {
	if n < 16 {
		panic("dsp: NewMainsDetector: block length must be at least 16")
	}
	if !(fs > 0) || math.IsInf(fs, 0) {
		panic("dsp: NewMainsDetector: fs must be positive and finite")
	}
	return &MainsDetector{
		n:     n,
		fs:    fs,
		win:   window.NewValues(window.Hann, n),
		fft:   fourier.NewFFT(n),
		seq:   make([]float64, n),
		coef:  make([]complex128, n/2+1),
		power: make([]float64, n/2+1),
	}
}

// Len returns the block length n that Detect expects.
func (m *MainsDetector) Len() int { return m.n }

// Detect looks for power-line interference in x, which must hold exactly n
// samples (it panics otherwise). It removes the mean, applies a Hann window
// (gonum dsp/window) and takes the power spectrum |X_k|^2 (gonum
// dsp/fourier). For each candidate f in {50, 60} Hz and each harmonic h·f
// whose flanking bands lie below Nyquist, excluding frequencies that are
// harmonics of both (multiples of 300 Hz), it takes L_h, the mean power in
// the line band h·f ± (1 Hz + 2 bins), and N_h, the mean power in the
// flanking bands just outside it (4 Hz or 4 bins wide, each side). The
// candidate's ratio is the larger of the fundamental's L_1/N_1 and the
// pooled ΣL_h/ΣN_h, so both a strong fundamental and interference spread
// over harmonics count. For a spectrum without lines the ratio is about 1.
//
// Detect returns the candidate with the larger ratio and that ratio when it
// exceeds minRatio (a power ratio, e.g. 10 for 10 dB), else 0 and the
// larger ratio found. When fs is too low for either candidate (no flanking
// band fits below Nyquist) it returns 0, 0. A silent (all-constant) block
// returns 0, 0.
func (m *MainsDetector) Detect(x []float64, minRatio float64) (f float64, ratio float64) {
	if len(x) != m.n {
		panic("dsp: MainsDetector.Detect: block length mismatch")
	}
	mean := floats.Sum(x) / float64(m.n)
	for i, v := range x {
		m.seq[i] = v - mean
	}
	m.win.Transform(m.seq)
	m.fft.Coefficients(m.coef, m.seq)
	for i, c := range m.coef {
		m.power[i] = real(c)*real(c) + imag(c)*imag(c)
	}
	r50 := m.ratio(50)
	r60 := m.ratio(60)
	best, r := 50.0, r50
	if r60 > r50 {
		best, r = 60, r60
	}
	if r > minRatio {
		return best, r
	}
	return 0, r
}

// ratio returns the line-to-flank power ratio for mains frequency f0.
func (m *MainsDetector) ratio(f0 float64) float64 {
	df := m.fs / float64(m.n)
	hw := int(math.Ceil(mainsLineHalfWidth/df)) + 2
	fw := max(int(math.Ceil(mainsFlankWidth/df)), 4)
	last := len(m.power) - 1
	var fund, sumL, sumN float64
	fundSet := false
	for h := 1; ; h++ {
		f := float64(h) * f0
		c := int(math.Round(f / df))
		if c+hw+fw > last {
			break
		}
		if math.Mod(f, 300) == 0 {
			continue
		}
		if c-hw-fw < 1 {
			continue
		}
		l := mean(m.power[c-hw : c+hw+1])
		n := (mean(m.power[c-hw-fw:c-hw]) + mean(m.power[c+hw+1:c+hw+fw+1])) / 2
		if !fundSet {
			fundSet = true
			if n > 0 {
				fund = l / n
			}
		}
		sumL += l
		sumN += n
	}
	switch {
	case sumL == 0:
		return 0
	case sumN == 0:
		return math.Inf(1)
	}
	return max(fund, sumL/sumN)
}

func mean(s []float64) float64 { return floats.Sum(s) / float64(len(s)) }
