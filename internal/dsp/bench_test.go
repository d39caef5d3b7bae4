package dsp

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchInput is a fixed block of noisy samples so every benchmark feeds the
// same data; it is cycled through with a mask.
var benchInput = func() []float64 {
	rng := rand.New(rand.NewPCG(9, 9))
	x := make([]float64, 1<<14)
	for i := range x {
		x[i] = 2048 + 100*rng.NormFloat64()
	}
	return x
}()

func reportPerSample(b *testing.B, samples int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(samples), "ns/sample")
}

// benchStep runs step once per op on consecutive samples.
func benchStep(b *testing.B, step func(float64) float64) {
	b.ReportAllocs()
	mask := len(benchInput) - 1
	sink := 0.0
	i := 0
	for b.Loop() {
		sink += step(benchInput[i&mask])
		i++
	}
	reportPerSample(b, b.N)
	if sink == 0.5 {
		b.Log(sink)
	}
}

func BenchmarkButterBandpass4Step(b *testing.B) {
	s, err := ButterBandpass(4, 20, 450, 1000)
	if err != nil {
		b.Fatal(err)
	}
	benchStep(b, s.Step)
}

func BenchmarkCombNotchStep(b *testing.B) {
	s, err := CombNotch(50, 9, 30, 1000) // 9 sections: 50..450 Hz
	if err != nil {
		b.Fatal(err)
	}
	benchStep(b, s.Step)
}

func BenchmarkMovingRMS(b *testing.B) {
	benchStep(b, NewMovingRMS(100).Step)
}

func BenchmarkSlidingQuantilesPush(b *testing.B) {
	s := NewSlidingQuantiles(1000, 1e-3, 1e6, 0.02, 0.05, 0.25)
	benchStep(b, func(x float64) float64 { s.Push(x); return s.Quantile(1) })
}

func BenchmarkMovingAverage(b *testing.B) {
	benchStep(b, NewMovingAverage(100).Step)
}

func BenchmarkTKEO(b *testing.B) {
	var t TKEO
	benchStep(b, t.Step)
}

func BenchmarkOnePole(b *testing.B) {
	benchStep(b, NewOnePole(0.1, 1000).Step)
}

// BenchmarkRobustWindowMedian measures one Median of a full 600-value
// window (a push plus the median per op); ns/sample divides by the window.
func BenchmarkRobustWindowMedian(b *testing.B) {
	const n = 600
	r := NewRobustWindow(n)
	for _, v := range benchInput[:n] {
		r.Push(v)
	}
	b.ReportAllocs()
	mask := len(benchInput) - 1
	sink := 0.0
	i := n
	for b.Loop() {
		r.Push(benchInput[i&mask])
		sink += r.Median()
		i++
	}
	reportPerSample(b, b.N*n)
	if sink == 0.5 {
		b.Log(sink)
	}
}

// BenchmarkMainsDetector measures one Detect on a 4096-sample block at
// 1000 Hz; ns/sample divides by the block length.
func BenchmarkMainsDetector(b *testing.B) {
	const n = 4096
	d := NewMainsDetector(n, 1000)
	block := benchInput[:n]
	b.ReportAllocs()
	for b.Loop() {
		d.Detect(block, 10)
	}
	reportPerSample(b, b.N*n)
}

// BenchmarkMovingRMSWindows measures MovingRMS at the detectors' window
// lengths: the 15 ms twitch envelope and the 250 ms activity envelope at
// 1 kHz, and the accelerometer's 250 ms at 100 Hz.
func BenchmarkMovingRMSWindows(b *testing.B) {
	for _, n := range []int{15, 25, 250} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchStep(b, NewMovingRMS(n).Step) })
	}
}
