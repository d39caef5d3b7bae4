package simulate

import (
	"bufio"
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
)

// recording is a generated file parsed back, for checking signals.
type recording struct {
	t    []float64 // seconds from start, every row
	emg  []float64 // mV
	accT []float64
	acc  [][3]float64 // g
}

func parseCSV(t *testing.T, data []byte) *recording {
	t.Helper()
	r := &recording{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<16), 1<<16)
	line, t0 := 0, math.NaN()
	for sc.Scan() {
		line++
		s := sc.Text()
		if strings.HasPrefix(s, "#") || s == CSVHeader {
			continue
		}
		f := strings.Split(s, ",")
		if len(f) != 5 {
			t.Fatalf("line %d: %d fields: %q", line, len(f), s)
		}
		tm, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatalf("line %d: time: %v", line, err)
		}
		if math.IsNaN(t0) {
			t0 = tm
		}
		e, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			t.Fatalf("line %d: emg: %v", line, err)
		}
		r.t = append(r.t, tm-t0)
		r.emg = append(r.emg, e)
		if f[2] != "" {
			var a [3]float64
			for k := 0; k < 3; k++ {
				if a[k], err = strconv.ParseFloat(f[2+k], 64); err != nil {
					t.Fatalf("line %d: acc: %v", line, err)
				}
			}
			r.accT = append(r.accT, tm-t0)
			r.acc = append(r.acc, a)
		}
	}
	return r
}

func generateBytes(t testing.TB, sc Scenario, seed int64) ([]byte, *Labels) {
	t.Helper()
	var buf bytes.Buffer
	l, err := Generate(sc, seed, &buf)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return buf.Bytes(), l
}

// enmo returns the mean ENMO (mg) of accelerometer samples in [a, b) s.
func (r *recording) enmo(a, b float64) float64 {
	var s float64
	n := 0
	for i, tm := range r.accT {
		if tm >= a && tm < b {
			v := r.acc[i]
			s += math.Max(0, math.Sqrt(v[0]*v[0]+v[1]*v[1]+v[2]*v[2])-1)
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return 1000 * s / float64(n)
}

// rms returns the RMS (mV) of the EMG in [a, b) s after removing the mean.
func (r *recording) rms(a, b float64) float64 {
	var s, s2 float64
	n := 0
	for i, tm := range r.t {
		if tm >= a && tm < b {
			s += r.emg[i]
			s2 += r.emg[i] * r.emg[i]
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	m := s / float64(n)
	return math.Sqrt(math.Max(0, s2/float64(n)-m*m))
}
