package simulate

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/twitchd/twitchd/pipeline"
)

// LabelsSchema names the version of the labels JSON layout Generate
// writes. Version 2 added the expected status per modality (Expected),
// the potentials' phases, the twitch context and the accelerometer's
// noise per twitch, cadences per phase and sets per bout.
const LabelsSchema = "twitchd-labels/2"

// LabelsSchemaV1 is the previous layout, still read: its files lack the
// fields version 2 added (they read as zero; Expected is nil).
const LabelsSchemaV1 = "twitchd-labels/1"

// Labels is the ground truth of one simulated recording. Times are
// pipeline.Timestamps (RFC 3339 with nanoseconds in JSON), on the same
// clock as the recording's time column. See README.md for the layout.
type Labels struct {
	Schema   string             `json:"schema"`
	Scenario string             `json:"scenario"`
	Seed     int64              `json:"seed"`
	Settings Scenario           `json:"settings"`
	Start    pipeline.Timestamp `json:"start"`
	End      pipeline.Timestamp `json:"end"`
	Phases   []PhaseLabel       `json:"phases"`
	Twitches []TwitchLabel      `json:"twitches"`
	Cramps   []CrampLabel       `json:"cramps"`
	// Artifacts are things that are not twitches and must not be reported
	// as twitches: electrode pops, motion artifacts, fidgets, posture shifts.
	Artifacts []ArtifactLabel `json:"artifacts"`
	// Bouts are the exercise bouts a detector should report: each run of
	// consecutive phases other than rest (pauses between sets included,
	// strolls alone excluded), with the intensity of its main phase.
	Bouts []BoutLabel `json:"bouts"`
	// ExpectedStatus is the status a correct rule reaches with both
	// sensors (Expected.Both.Status).
	ExpectedStatus string `json:"expected_status"`
	// Expected holds the oracle's status for each modality with its
	// evidence (oracle.go); nil in version 1 labels.
	Expected *Expectation `json:"expected,omitempty"`
}

// PhaseLabel is one phase as it happened. Active phases carry the cycle
// frequency used (strides, pedal revolutions or repetitions per second),
// the voluntary EMG burst length per cycle (not for lifting) and the
// amplitude scale when one was set.
type PhaseLabel struct {
	Name      string             `json:"name"`
	Activity  string             `json:"activity"`
	Intensity string             `json:"intensity,omitempty"`
	CadenceHz float64            `json:"cadence_hz,omitempty"`
	BurstMs   float64            `json:"burst_ms,omitempty"`
	Amplitude float64            `json:"amplitude,omitempty"`
	Start     pipeline.Timestamp `json:"start"`
	End       pipeline.Timestamp `json:"end"`
}

// TwitchLabel is one twitch: a single fasciculation potential or a short
// burst of them. Start and End bound the EMG potentials. When InAcc is
// true the limb moved: AccStart..AccEnd bound the damped oscillation in
// the accelerometer (it starts a few ms after the potential,
// electromechanical delay) and AccPeakMg is its peak as recorded. The
// presets label only jerks that stand clear of the noise; the families'
// wide model labels every jerk, however small, and AccVisible picks the
// plainly visible ones against AccNoiseMg.
type TwitchLabel struct {
	Start  pipeline.Timestamp `json:"start"`
	End    pipeline.Timestamp `json:"end"`
	PeakUV float64            `json:"peak_uv"` // largest potential's peak as recorded (after the front end's low-pass)
	// BandPeakUV is the largest potential's peak after a 20-450 Hz
	// band-pass (the families' model only): what the surface EMG band
	// shows of it, at least MinSNR times the noise.
	BandPeakUV float64 `json:"band_peak_uv,omitempty"`
	Potentials int     `json:"potentials"`
	// PotentialPhases is the number of phases of each potential (1..6).
	PotentialPhases int                `json:"potential_phases,omitempty"`
	InAcc           bool               `json:"in_acc"`
	AccStart        pipeline.Timestamp `json:"acc_start,omitempty"`
	AccEnd          pipeline.Timestamp `json:"acc_end,omitempty"`
	AccPeakMg       float64            `json:"acc_peak_mg,omitempty"`
	// AccNoiseMg is the accelerometer's noise RMS per axis, sensor noise
	// and quantisation together (AccNoiseMg of the scenario).
	AccNoiseMg float64 `json:"acc_noise_mg,omitempty"`
	Phase      string  `json:"phase"` // the phase it falls in (always rest today)
	// Context is the twitch's phase in the detectors' vocabulary:
	// pipeline.PhasePostExercise after an exercise bout of this
	// recording, pipeline.PhaseRest with none before it.
	Context string `json:"context,omitempty"`
}

// AccVisibleSNR is the least recorded peak, in multiples of the per-axis
// noise, of a twitch the accelerometer plainly shows (issue 9's bar).
const AccVisibleSNR = 6

// AccVisible reports whether the twitch moved the limb with a recorded
// peak of at least snr times the accelerometer's per-axis noise. Labels
// without the noise (schema 1) count every twitch in_acc.
func (t TwitchLabel) AccVisible(snr float64) bool {
	return t.InAcc && (t.AccNoiseMg <= 0 || t.AccPeakMg >= snr*t.AccNoiseMg)
}

// CrampLabel is one cramp: sustained involuntary motor-unit firing.
type CrampLabel struct {
	Start  pipeline.Timestamp `json:"start"`
	End    pipeline.Timestamp `json:"end"`
	Units  int                `json:"units"`   // motor units recruited at the plateau
	MeanHz float64            `json:"mean_hz"` // mean discharge rate at the plateau
}

// Artifact kinds.
const (
	ArtifactPop     = "pop"
	ArtifactMotion  = "motion"
	ArtifactFidget  = "fidget"
	ArtifactPosture = "posture"
	ArtifactTremor  = "tremor"
	ArtifactSway    = "sway"
)

// ArtifactLabel is one artifact.
type ArtifactLabel struct {
	Kind  string             `json:"kind"`
	Start pipeline.Timestamp `json:"start"`
	End   pipeline.Timestamp `json:"end"`
}

// BoutLabel is one exercise bout. Sets counts the stretches of activity
// separated by pauses between sets (1 without pauses); ActiveS is the time
// spent moving.
type BoutLabel struct {
	Start     pipeline.Timestamp `json:"start"`
	End       pipeline.Timestamp `json:"end"`
	Activity  string             `json:"activity"`
	Intensity string             `json:"intensity"`
	Sets      int                `json:"sets,omitempty"`
	ActiveS   float64            `json:"active_s,omitempty"`
}

// RestSeconds returns the total duration of the rest phases.
func (l *Labels) RestSeconds() float64 {
	var s float64
	for _, p := range l.Phases {
		if p.Name == PhaseRest {
			s += float64(p.End-p.Start) / 1e9
		}
	}
	return s
}

// PhaseAt returns the phase containing t, or nil.
func (l *Labels) PhaseAt(t pipeline.Timestamp) *PhaseLabel {
	for i := range l.Phases {
		if t >= l.Phases[i].Start && t < l.Phases[i].End {
			return &l.Phases[i]
		}
	}
	return nil
}

// WriteJSON writes l as indented JSON.
func (l *Labels) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(l); err != nil {
		return fmt.Errorf("simulate: write labels: %w", err)
	}
	return nil
}

// WriteLabelsFile writes l to path.
func WriteLabelsFile(path string, l *Labels) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	if err := l.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	return nil
}

// ReadLabels decodes labels JSON and checks its schema.
func ReadLabels(r io.Reader, name string) (*Labels, error) {
	var l Labels
	dec := json.NewDecoder(r)
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("simulate: %s: labels: %w", name, err)
	}
	if l.Schema != LabelsSchema && l.Schema != LabelsSchemaV1 {
		return nil, fmt.Errorf("simulate: %s: labels schema %q, want %q or %q", name, l.Schema, LabelsSchema, LabelsSchemaV1)
	}
	return &l, nil
}
