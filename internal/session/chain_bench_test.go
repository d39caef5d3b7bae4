//go:build unix

package session

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	_ "github.com/twitchd/twitchd/internal/decode/all"
	"github.com/twitchd/twitchd/internal/rule"
	"github.com/twitchd/twitchd/internal/simulate"
	"github.com/twitchd/twitchd/pipeline"
)

// discard is a Sink that drops every event.
type discard struct{}

func (discard) Write(pipeline.Event) error  { return nil }
func (discard) Flush(context.Context) error { return nil }

// chainFile writes the bundled calf session (4 minutes of 1 kHz EMG)
// with a 100 Hz accelerometer as format ("edf" or "csv") and returns its
// path and its number of EMG samples.
func chainFile(b *testing.B, format string) (string, int) {
	sc, err := simulate.Preset("bundled-calf")
	if err != nil {
		b.Fatal(err)
	}
	sc.AccRate = 100
	p := filepath.Join(b.TempDir(), "calf."+format)
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	gen := simulate.Generate
	if format == "edf" {
		gen = simulate.GenerateEDF
	}
	if _, err := gen(sc, 1, f); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p, int(sc.Seconds() * sc.EMGRate)
}

// cpuTime returns the CPU time of the process so far (user and system,
// every thread).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds ns/sample (wall time) and cpu-ns/sample (CPU time of every
// goroutine: the Runner decodes on one and detects on another) for n
// samples per op, the CPU measured from cpu0.
func report(b *testing.B, n int, cpu0 time.Duration) {
	samples := float64(b.N * n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/samples, "ns/sample")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/samples, "cpu-ns/sample")
}

// BenchmarkChain measures the whole chain of a replay per 1 kHz EMG
// sample (with its share of the 100 Hz accelerometer): opening and
// decoding the file, the Runner's batches, the detectors and the
// persistence rule (without history), events dropped. The stages are
// cumulative, so each one's cost is its difference from the one before:
// decode (the Source alone), detect (the Runner with the detectors) and
// chain (with the rule too). cpu-ns/sample is the measure: the Runner
// decodes on its own goroutine, so the wall time is less.
func BenchmarkChain(b *testing.B) {
	for _, format := range []string{"edf", "csv"} {
		path, n := chainFile(b, format)
		b.Run(format+"/decode", func(b *testing.B) {
			bt := pipeline.NewBatch(4, 512)
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				src, err := decode.OpenFile(path, "", decode.Options{})
				if err != nil {
					b.Fatal(err)
				}
				for {
					err := src.Next(context.Background(), bt)
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				src.Close()
			}
			report(b, n, cpu0)
		})
		for _, stage := range []string{"detect", "chain"} {
			b.Run(format+"/"+stage, func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cpuTime(b)
				for b.Loop() {
					src, err := decode.OpenFile(path, "", decode.Options{})
					if err != nil {
						b.Fatal(err)
					}
					det, err := Detectors(nil, nil)
					if err != nil {
						b.Fatal(err)
					}
					var stages []pipeline.EventStage
					if stage == "chain" {
						stages = []pipeline.EventStage{rule.New(context.Background(), rule.DefaultConfig(), nil, nil)}
					}
					_, err = Run(context.Background(), src, Config{
						Subject: "bench", Site: "calf_left",
						Processors: []pipeline.Processor{det}, Stages: stages, Sinks: []pipeline.Sink{discard{}},
					})
					if err != nil {
						b.Fatal(err)
					}
					src.Close()
				}
				report(b, n, cpu0)
			})
		}
	}
}
