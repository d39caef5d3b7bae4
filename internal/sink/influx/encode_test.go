package influx

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	lp "github.com/influxdata/line-protocol"

	"github.com/twitchd/twitchd/pipeline"
)

// t0 is 2026-11-25T10:00:00Z in Unix ns.
const t0 = pipeline.Timestamp(1795600800_000000000)

var ids = pipeline.Tags{Subject: "s1", Site: "calf_left", Session: "20261125T100000Z-3fa2c1"}

func TestAppendLinesSchema(t *testing.T) {
	tests := []struct {
		name string
		ev   pipeline.Event
		want string
	}{
		{"twitch", &pipeline.Twitch{Start: t0, End: t0 + 120_000_000, Tags: ids, Sensor: "emg", Channel: "emg1",
			Peak: 0.25, Phase: pipeline.PhasePostExercise, SNR: 7.5, Potentials: 3, Confirmed: true},
			"twitch,channel=emg1,phase=post_exercise,sensor=emg,site=calf_left,subject=s1 " +
				"peak=0.25,snr=7.5,duration_s=0.12,potentials=3i,confirmed=true,session=\"20261125T100000Z-3fa2c1\" 1795600800000000000\n"},
		{"acc bout leaves out EMG fields", &pipeline.Bout{Start: t0, End: t0 + 90e9, Tags: ids, Sensor: "acc",
			Intensity: pipeline.IntensityModerate, MeanENMO: 150, PeakENMO: 400.5, PeakAcc: 1.25},
			"bout,intensity=moderate,sensor=acc,site=calf_left,subject=s1 " +
				"duration_s=90,mean_enmo_mg=150,peak_enmo_mg=400.5,peak_acc_g=1.25,intensity_level=2i,session=\"20261125T100000Z-3fa2c1\" 1795600800000000000\n"},
		{"acc+emg bout", &pipeline.Bout{Start: t0, End: t0 + 1e9, Tags: ids, Sensor: "acc+emg",
			Intensity: pipeline.IntensityVigorous, PeakRMS: 0.5, MeanRMS: 0.125},
			"bout,intensity=vigorous,sensor=acc+emg,site=calf_left,subject=s1 " +
				"duration_s=1,mean_enmo_mg=0,peak_enmo_mg=0,peak_acc_g=0,peak_emg_rms_mv=0.5,mean_emg_rms_mv=0.125,intensity_level=3i,session=\"20261125T100000Z-3fa2c1\" 1795600800000000000\n"},
		{"rest without session", &pipeline.Rest{Start: t0, End: t0 + 2_500_000_000, Tags: pipeline.Tags{Subject: "s1", Site: "calf_left"}, AfterExercise: true},
			"rest,site=calf_left,subject=s1 duration_s=2.5,after_exercise=true 1795600800000000000\n"},
		{"cramp", &pipeline.Cramp{Start: t0, End: t0 + 30e9, Tags: ids, Sensor: "emg", Channel: "emg", Peak: 1.5, MeanRMS: 0.75},
			"cramp,channel=emg,sensor=emg,site=calf_left,subject=s1 duration_s=30,peak=1.5,mean_rms=0.75,session=\"20261125T100000Z-3fa2c1\" 1795600800000000000\n"},
		{"acc epoch keeps zero ENMO", &pipeline.Epoch{Start: t0, End: t0 + 5e9, Tags: ids, Sensor: "acc", Channel: "acc",
			Intensity: pipeline.IntensitySedentary},
			"activity,channel=acc,intensity=sedentary,sensor=acc,site=calf_left,subject=s1 " +
				"enmo_mg=0,noise=0,intensity_level=0i,duration_s=5,session=\"20261125T100000Z-3fa2c1\" 1795600800000000000\n"},
		{"emg epoch", &pipeline.Epoch{Start: t0, End: t0 + 5e9, Tags: ids, Sensor: "emg", Channel: "emg", RMS: 0.02, Noise: 0.005},
			"activity,channel=emg,sensor=emg,site=calf_left,subject=s1 " +
				"rms_mv=0.02,noise=0.005,duration_s=5,session=\"20261125T100000Z-3fa2c1\" 1795600800000000000\n"},
		{"assessment with measures sorted and a reserved name prefixed", &pipeline.Assessment{Time: t0, Tags: ids, Status: "persistent",
			Reason: `rate "high"`, Advice: []string{"rest", "see a doctor"}, Notice: "not a diagnosis",
			Measures: map[string]float64{"rate_after": 2.5, "reason": 1, "count": 12}},
			"assessment,site=calf_left,status=persistent,subject=s1 " +
				`status_level=4i,reason="rate \"high\"",advice="rest; see a doctor",notice="not a diagnosis",count=12,m_reason=1,rate_after=2.5,session="20261125T100000Z-3fa2c1" 1795600800000210070` + "\n"},
		{"summary at its start", &pipeline.Summary{Tags: ids, File: `C:\data\calf run.csv`, Format: "csv", Start: t0, End: t0 + 60e9,
			Channels:     []pipeline.ChannelSummary{{Name: "acc_x", Samples: 6000}, {Name: "emg", Samples: 60000}},
			SkippedLines: 2, LostSamples: 5, Bouts: 1, Twitches: 7, Cramps: 0},
			"ingest,site=calf_left,subject=s1 " +
				`samples=66000i,duration_s=60,skipped_lines=2i,lost_samples=5i,twitches=7i,bouts=1i,cramps=0i,file="C:\\data\\calf run.csv",format="csv",session="20261125T100000Z-3fa2c1" 1795600800000210070` + "\n"},
		{"live segment ended by a clock step", &pipeline.Summary{Tags: ids, File: "/dev/ttyUSB0", Format: "openbci-cyton", Start: t0, End: t0 + 30e9,
			Channels: []pipeline.ChannelSummary{{Name: "exg0", Samples: 7500}}, Segment: 1, ClockStepS: 10800.25},
			"ingest,site=calf_left,subject=s1 " +
				`samples=7500i,duration_s=30,skipped_lines=0i,lost_samples=0i,twitches=0i,bouts=0i,cramps=0i,file="/dev/ttyUSB0",format="openbci-cyton",segment=1i,clock_step_s=10800.25,session="20261125T100000Z-3fa2c1" 1795600800000210070` + "\n"},
		{"symptom", &pipeline.Symptom{Time: t0, Tags: ids, Symptom: "cramp", Text: "left calf,\nafter run"},
			"symptom,site=calf_left,subject=s1,symptom=cramp " +
				`text="left calf,\nafter run",count=1i,session="20261125T100000Z-3fa2c1" 1795600800000000000` + "\n"},
		{"NaN peak is left out", &pipeline.Twitch{Start: t0, End: t0, Tags: ids, Sensor: "acc", Channel: "acc", Peak: math.NaN(), SNR: math.Inf(1), Phase: "rest"},
			"twitch,channel=acc,phase=rest,sensor=acc,site=calf_left,subject=s1 " +
				"duration_s=0,potentials=0i,confirmed=false,session=\"20261125T100000Z-3fa2c1\" 1795600800000000000\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := AppendLines(nil, tc.ev)
			if err != nil || n != 1 {
				t.Fatalf("AppendLines: n=%d err=%v", n, err)
			}
			if string(got) != tc.want {
				t.Errorf("line\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestEscaping(t *testing.T) {
	tests := []struct {
		name      string
		tagValue  string
		wantTag   string
		text      string
		wantField string
	}{
		{"plain", "calf", "calf", "ok", `"ok"`},
		{"space comma equals", "left calf, a=b", `left\ calf\,\ a\=b`, "a, b=c", `"a, b=c"`},
		{"quotes", `say "hi"`, `say\ "hi"`, `say "hi"`, `"say \"hi\""`},
		{"backslashes", `a\b\\c`, `a\b\\c`, `a\b`, `"a\\b"`},
		{"backslash before an escapable char or at the end", `a\,b\`, `a/\,b/`, `end\`, `"end\\"`},
		{"control characters", "a\tb\nc", `a\tb\nc`, "x\ny\rz\t", `"x\ny\rz` + "\t\""},
		{"unicode", "mollet_gauche_µ", "mollet_gauche_µ", "crampe à 10 h", `"crampe à 10 h"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := &pipeline.Symptom{Time: 1, Tags: pipeline.Tags{Subject: "s", Site: tc.tagValue}, Symptom: "x", Text: tc.text}
			got, _, err := AppendLines(nil, ev)
			if err != nil {
				t.Fatal(err)
			}
			want := "symptom,site=" + tc.wantTag + ",subject=s,symptom=x text=" + tc.wantField + ",count=1i 1\n"
			if string(got) != want {
				t.Errorf("\n got %q\nwant %q", got, want)
			}
			if strings.Count(string(got), "\n") != 1 {
				t.Errorf("line %q is not exactly one line", got)
			}
		})
	}
}

func TestEscapedKeysAndMeasures(t *testing.T) {
	ev := &pipeline.Assessment{Time: 5, Tags: pipeline.Tags{Subject: "s"}, Status: "none",
		Measures: map[string]float64{"rate per min": 1, "a,b=c": 2}}
	got, _, err := AppendLines(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `assessment,status=none,subject=s status_level=0i,a\,b\=c=2,rate\ per\ min=1 5` + "\n"
	if string(got) != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		ev   pipeline.Event
		want string
	}{
		{"assessment with nothing to write", &pipeline.Assessment{Time: 1, Status: "unheard-of"}, "no field"},
		{"unknown event type", unknownEvent{}, `no schema for "mystery" events`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep\n")
			got, n, err := AppendLines(dst, tc.ev)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if n != 0 || string(got) != "keep\n" {
				t.Errorf("on error got n=%d dst=%q, want 0 and dst unchanged", n, got)
			}
		})
	}
}

type unknownEvent struct{}

func (unknownEvent) EventType() string      { return "mystery" }
func (unknownEvent) At() pipeline.Timestamp { return 0 }

// TestPointsMatchLines checks that Points and AppendLines give the same
// point: the line is parsed back with the line-protocol module's parser
// (an encoder independent of ours) and compared with the write.Point.
func TestPointsMatchLines(t *testing.T) {
	for _, ev := range sampleEvents(ids, t0) {
		pts, err := Points(ev)
		if err != nil || len(pts) != 1 {
			t.Fatalf("%s: Points: %v (%d points)", ev.EventType(), err, len(pts))
		}
		line, _, err := AppendLines(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := lp.NewParser(lp.NewMetricHandler()).Parse(line)
		if err != nil || len(ms) != 1 {
			t.Fatalf("%s: parse %q: %v (%d metrics)", ev.EventType(), line, err, len(ms))
		}
		if got, want := describe(ms[0]), describe(pts[0]); got != want {
			t.Errorf("%s:\n line  %s\n Point %s", ev.EventType(), got, want)
		}
	}
}

// describe prints a metric with sorted tags and fields and typed values.
func describe(m lp.Metric) string {
	var parts []string
	for _, tg := range m.TagList() {
		parts = append(parts, "tag "+tg.Key+"="+tg.Value)
	}
	for _, f := range m.FieldList() {
		parts = append(parts, fmt.Sprintf("field %s=%T(%v)", f.Key, f.Value, f.Value))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%s %v @%d", m.Name(), parts, m.Time().UnixNano())
}

// TestStatusLevels checks every status of the persistence rule has a level
// in the order of concern (pipeline.Statuses), spelled out here so that a
// reordering there shows up as a change of the stored schema.
func TestStatusLevels(t *testing.T) {
	for i, s := range []string{"none", "ceased", "post_exercise", "at_rest", "persistent", "persistent_with_symptoms"} {
		if got := statusLevel(s); got != int64(i) {
			t.Errorf("status_level(%q) = %d, want %d", s, got, i)
		}
	}
	if got := statusLevel("persistant"); got != -1 {
		t.Errorf("status_level of an unknown name = %d, want -1", got)
	}
}
