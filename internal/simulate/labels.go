package simulate

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/twitchd/twitchd/pipeline"
)

// LabelsSchema names the version of the labels JSON layout.
const LabelsSchema = "twitchd-labels/1"

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
	// consecutive active phases, with the intensity of its main phase.
	Bouts          []BoutLabel `json:"bouts"`
	ExpectedStatus string      `json:"expected_status"`
}

// PhaseLabel is one phase as it happened.
type PhaseLabel struct {
	Name      string             `json:"name"`
	Activity  string             `json:"activity"`
	Intensity string             `json:"intensity,omitempty"`
	Start     pipeline.Timestamp `json:"start"`
	End       pipeline.Timestamp `json:"end"`
}

// TwitchLabel is one twitch: a single fasciculation potential or a short
// burst of them. Start and End bound the EMG potentials. When InAcc is
// true the limb moved visibly: AccStart..AccEnd bound the damped
// oscillation in the accelerometer (it starts a few ms after the
// potential, electromechanical delay) and AccPeakMg is its peak.
type TwitchLabel struct {
	Start      pipeline.Timestamp `json:"start"`
	End        pipeline.Timestamp `json:"end"`
	PeakUV     float64            `json:"peak_uv"` // largest potential's peak as recorded (after the front end's low-pass)
	Potentials int                `json:"potentials"`
	InAcc      bool               `json:"in_acc"`
	AccStart   pipeline.Timestamp `json:"acc_start,omitempty"`
	AccEnd     pipeline.Timestamp `json:"acc_end,omitempty"`
	AccPeakMg  float64            `json:"acc_peak_mg,omitempty"`
	Phase      string             `json:"phase"` // the phase it falls in (always rest today)
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
)

// ArtifactLabel is one artifact.
type ArtifactLabel struct {
	Kind  string             `json:"kind"`
	Start pipeline.Timestamp `json:"start"`
	End   pipeline.Timestamp `json:"end"`
}

// BoutLabel is one exercise bout.
type BoutLabel struct {
	Start     pipeline.Timestamp `json:"start"`
	End       pipeline.Timestamp `json:"end"`
	Activity  string             `json:"activity"`
	Intensity string             `json:"intensity"`
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
	if l.Schema != LabelsSchema {
		return nil, fmt.Errorf("simulate: %s: labels schema %q, want %q", name, l.Schema, LabelsSchema)
	}
	return &l, nil
}
