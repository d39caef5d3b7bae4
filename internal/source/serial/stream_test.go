package serial

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// byteDecoder decodes one sample per byte (its value) at 100 Hz: the
// least a protocol can be, for tests of the Stream around it.
type byteDecoder struct{ buf []byte }

func (d *byteDecoder) Channels() []pipeline.Channel {
	return []pipeline.Channel{{Name: "v", Kind: pipeline.KindOther, RateHz: 100}}
}
func (d *byteDecoder) Rate() float64 { return 100 }
func (d *byteDecoder) Feed(p []byte) { d.buf = append(d.buf, p...) }
func (d *byteDecoder) Reset()        { d.buf = d.buf[:0] }
func (d *byteDecoder) Decode(vals []float64) (Sample, error) {
	if len(d.buf) == 0 {
		return Sample{}, ErrNeedMore
	}
	vals[0] = float64(d.buf[0])
	d.buf = d.buf[1:]
	return Sample{}, nil
}

// chunk is bytes arriving at a host time.
type arrival struct {
	p  []byte
	at HostTime
}

// scripted is a Reader that hands out arrivals in order, then io.EOF.
type scripted struct{ arrivals []arrival }

func (r *scripted) Read(_ context.Context, p []byte, _ time.Duration) (int, HostTime, error) {
	if len(r.arrivals) == 0 {
		return 0, HostTime{}, io.EOF
	}
	a := r.arrivals[0]
	r.arrivals = r.arrivals[1:]
	return copy(p, a.p), a.at, nil
}

// TestStreamSegmentsAtLargeStep plays 20 chunks of 10 samples (100 Hz,
// on time) with the host's wall clock stepped back an hour before chunk
// 12: Next ends the first segment after the samples stamped before the
// step (pipeline.ErrEndOfSegment, with the step in Stats), then delivers
// the second, whose times follow the stepped clock; every sample comes
// through once, in order, and each segment's times increase.
func TestStreamSegmentsAtLargeStep(t *testing.T) {
	const wall0, mono0 = int64(1_800_000_000e9), int64(1e12)
	step := -int64(time.Hour)
	r := &scripted{}
	for c := 0; c < 20; c++ {
		p := make([]byte, 10)
		for i := range p {
			p[i] = byte(c*10 + i)
		}
		mono := mono0 + int64(c+1)*100e6
		wall := wall0 + int64(c+1)*100e6
		if c >= 12 {
			wall += step
		}
		r.arrivals = append(r.arrivals, arrival{p, HostTime{Wall: wall, Mono: mono}})
	}
	s := NewStream(r, &byteDecoder{}, StreamOptions{Name: "test", Live: true, Linger: -1})
	b := pipeline.NewBatch(1, 64)
	var segs [][]pipeline.Frame
	var stats []pipeline.SourceStats
	cur := []pipeline.Frame{}
	for {
		err := s.Next(context.Background(), b)
		for _, f := range b.Frames {
			cur = append(cur, pipeline.Frame{Time: f.Time, Values: []float64{f.Values[0]}})
		}
		if errors.Is(err, pipeline.ErrEndOfSegment) || errors.Is(err, io.EOF) {
			segs, cur = append(segs, cur), nil
			stats = append(stats, s.Stats())
			if errors.Is(err, io.EOF) {
				break
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(segs) != 2 || len(segs[0]) != 120 || len(segs[1]) != 80 {
		t.Fatalf("%d segments of %v samples, want 120 then 80", len(segs), []int{len(segs[0]), len(segs[len(segs)-1])})
	}
	if stats[0].Segment != 1 || stats[0].ClockStep != step || stats[0].Frames != 120 ||
		stats[1].Segment != 2 || stats[1].ClockStep != 0 || stats[1].Frames != 80 {
		t.Fatalf("segment stats %+v", stats)
	}
	k := 0
	for i, seg := range segs {
		for j, f := range seg {
			if int(f.Values[0]) != k%256 {
				t.Fatalf("segment %d sample %d holds %v, want %d", i+1, j, f.Values[0], k)
			}
			// Each sample is at the arrival of its chunk's last sample,
			// less its distance from it, on the clock of its segment.
			want := wall0 + int64(k/10+1)*100e6 - int64(9-k%10)*10e6
			if i == 1 {
				want += step
			}
			if d := f.Time - want; d < -1000 || d > 1000 {
				t.Fatalf("segment %d sample %d at %d, want %d", i+1, j, f.Time, want)
			}
			if j > 0 && f.Time <= seg[j-1].Time {
				t.Fatalf("segment %d: sample %d not after the one before", i+1, j)
			}
			k++
		}
	}
	if ds := s.DeviceStats(); ds.ClockSteps != 1 || ds.Segments != 2 || ds.ClockGaps != 0 {
		t.Fatalf("device stats %+v", ds)
	}
}
