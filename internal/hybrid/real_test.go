package hybrid

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/realdata"
	realtest "github.com/twitchd/twitchd/internal/testutil/realdata"
)

// GateEnv names the variable that turns the hybrid bars into failures
// (set to 1 once the noise-adaptive detectors are merged).
const GateEnv = "TWITCHD_HYBRID_GATE"

// TestHybridObviousTwitches runs the whole machinery (measure, plan,
// inject, detect, match) with twitches no detector may miss: EMG
// potentials at 100 times the noise into the BioSPPy baseline, jerks of
// 60 times the per-axis noise (about 90 mg) into the ActiGraph's still
// minutes. At least 85 % must be found where they were put, whatever the
// detectors' tuning: a failure here is a fault of the hybrid recordings
// (times, amplitudes, matching), not of the detectors.
func TestHybridObviousTwitches(t *testing.T) {
	root := realtest.Dir(t)
	cfg := Default()
	cfg.Draws, cfg.SNR, cfg.AccSNR, cfg.Weak = 1, [2]float64{100, 100}, [2]float64{60, 60}, 0
	cfg.Tau[0] = cfg.Tau[1] / 2 // long enough to stand out at 30 Hz
	for _, tc := range []struct {
		path  string
		class Class
	}{{"emg/biosppy_emg_rest.txt", EMGClear}, {"accel/actigraph_neo_30hz.csv", AccStrong}} {
		rec, _ := realdata.Find(tc.path)
		r, err := RunRecording(context.Background(), root, rec, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := r.Classes[tc.class]
		t.Logf("%s: %s at rest %d/%d found; misses and false alarms:\n%s", tc.path, tc.class, c.RestFound, c.Rest, strings.Join(r.Errors, "\n"))
		if c.Rest < 10 || c.Recall() < 0.85 {
			t.Errorf("%s: %d of %d obvious %s twitches found at rest:\n%s", tc.path, c.RestFound, c.Rest, tc.class, strings.Join(r.Errors, "\n"))
		}
	}
}

// TestHybridRealRecordings is issue 9's hybrid benchmark: simulated
// twitches and jerks injected into every real recording, scored per
// recording and pooled. It logs the table `twitchd eval -hybrid` prints
// and checks that a second run gives the same numbers (the recordings
// are generated afresh from the seed each time); a recording that fails
// to run always fails the test. The bars (clear EMG
// twitches at rest recall >= 0.95, >= 6x jerks >= 0.90, at most one false
// alarm per hour of rest) fail the test only with TWITCHD_HYBRID_GATE=1:
// the detectors on main miss them (see README, "Measured quality").
func TestHybridRealRecordings(t *testing.T) {
	if testing.Short() {
		t.Skip("replays every real recording three times")
	}
	root := realtest.Dir(t)
	cfg := Default()
	rs, err := Run(context.Background(), root, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, rs); err != nil {
		t.Fatal(err)
	}
	t.Logf("hybrid recordings (seed %d, %d draws):\n%s", cfg.Seed, cfg.Draws, buf.String())
	for _, r := range rs {
		if r.Err != "" {
			t.Errorf("%s: %s", r.Path, r.Err)
		}
	}
	pooled := Pool(rs)
	for _, c := range []Class{EMGClear, EMGFaint, AccStrong, AccWeak} {
		if pooled.Classes[c].Rest == 0 {
			t.Errorf("no %s twitch injected at rest in any recording", c)
		}
	}
	again, err := RunRecording(context.Background(), root, mustFind(t, rs[0].Path), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, rs[0]) {
		t.Errorf("%s scored twice from one seed: %+v then %+v", rs[0].Path, rs[0], again)
	}
	ms := Bars(pooled)
	if os.Getenv(GateEnv) != "1" {
		t.Logf("%d hybrid bars missed; not failing without %s=1", len(ms), GateEnv)
		return
	}
	for _, m := range ms {
		t.Error(m)
	}
}

func mustFind(t *testing.T, path string) realdata.Recording {
	t.Helper()
	r, ok := realdata.Find(path)
	if !ok {
		t.Fatalf("%s not catalogued", path)
	}
	return r
}
