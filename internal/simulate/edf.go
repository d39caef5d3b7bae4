package simulate

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/twitchd/twitchd/internal/decode/edf"
	"github.com/twitchd/twitchd/pipeline"
)

// EMGRangeMV is the physical range (±mV) of the EMG signal in EDF output:
// with 16-bit samples that is a resolution of 0.5 µV, far below the noise
// floor, and room for vigorous contraction plus an electrode pop.
const EMGRangeMV = 16.384

// GenerateEDF is Generate writing EDF+C instead of CSV: a signal "emg"
// in mV at the EMG rate and "acc_x", "acc_y", "acc_z" in g at the
// accelerometer rate, in 1 s data records, starting at the scenario's
// start. Both rates must be whole numbers of samples per second. w may be
// an io.WriteSeeker (a file), so the record count is patched into the
// header at the end. No annotations are written: the truth stays in the
// labels.
func GenerateEDF(sc Scenario, seed int64, w io.Writer) (*Labels, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	for _, r := range []struct {
		name string
		hz   float64
	}{{"EMG", sc.EMGRate}, {"accelerometer", sc.AccRate}} {
		if r.hz != math.Trunc(r.hz) {
			return nil, fmt.Errorf("%w %q: EDF output needs whole-number rates; %s rate is %g Hz", ErrScenario, sc.Name, r.name, r.hz)
		}
	}
	acc := func(axis string) edf.WriterSignal {
		return edf.WriterSignal{Label: "acc_" + axis, Kind: pipeline.KindAcc, Unit: "g", RateHz: sc.AccRate,
			PhysMin: -sc.AccRangeG, PhysMax: sc.AccRangeG, Transducer: "MEMS accelerometer (simulated)"}
	}
	h := edf.WriterHeader{
		Patient:        "X X X " + sanitizeEDF(sc.Subject),
		Recording:      fmt.Sprintf("X X twitchd-simulate %s seed %d", sanitizeEDF(sc.Name), seed),
		Start:          sc.Start,
		RecordDuration: time.Second,
		Signals: []edf.WriterSignal{
			{Label: "emg", Kind: pipeline.KindEMG, Unit: "mV", RateHz: sc.EMGRate, PhysMin: -EMGRangeMV, PhysMax: EMGRangeMV,
				Transducer: "surface EMG (simulated)", Prefilter: sc.Site},
			acc("x"), acc("y"), acc("z"),
		},
	}
	ew, err := edf.NewWriter(w, h)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	p := newPlan(sc, seed)
	p.labels.Seed = seed
	g := newGenerator(sc, seed, p)
	vals := make([]float64, 4)
	n := int64(math.Round(sc.Seconds() * sc.EMGRate))
	for i := int64(0); i < n; i++ {
		emg, a, ok := g.sample(i)
		vals[0] = emg
		for k := 0; k < 3; k++ {
			if ok {
				vals[1+k] = a[k]
			} else {
				vals[1+k] = pipeline.NoSample
			}
		}
		if err := ew.Write(pipeline.Frame{Time: g.timeNs(i), Values: vals}); err != nil {
			return nil, fmt.Errorf("simulate: %w", err)
		}
	}
	if err := ew.Close(); err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	return p.labels, nil
}

// sanitizeEDF keeps a header field to printable ASCII without spaces (EDF+
// separates subfields by spaces).
func sanitizeEDF(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c <= ' ' || c > '~' {
			b[i] = '_'
		}
	}
	if len(b) > 30 {
		b = b[:30]
	}
	return string(b)
}
