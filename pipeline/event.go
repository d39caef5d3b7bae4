package pipeline

import (
	"encoding/json"
	"fmt"
	"time"
)

// Timestamp is a point in time in Unix nanoseconds, from the recording's
// clock. It marshals to JSON as RFC 3339 in UTC with exactly nine fraction
// digits, e.g. "2026-11-25T10:00:00.250000000Z".
type Timestamp int64

// TimestampLayout is the layout Timestamp uses in JSON.
const TimestampLayout = "2006-01-02T15:04:05.000000000Z07:00"

// Time converts t to a time.Time in UTC.
func (t Timestamp) Time() time.Time { return time.Unix(0, int64(t)).UTC() }

// String formats t with TimestampLayout.
func (t Timestamp) String() string { return t.Time().Format(TimestampLayout) }

// MarshalJSON implements json.Marshaler.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimestampLayout)+2)
	b = append(b, '"')
	b = t.Time().AppendFormat(b, TimestampLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON implements json.Unmarshaler; it accepts any RFC 3339 time.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("pipeline: timestamp: %w", err)
	}
	tt, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("pipeline: timestamp: %w", err)
	}
	*t = Timestamp(tt.UnixNano())
	return nil
}

// Event type names, as written in the "type" field of the events contract.
const (
	TypeTwitch     = "twitch"
	TypeBout       = "bout"
	TypeRest       = "rest"
	TypeCramp      = "cramp"
	TypeAssessment = "assessment"
	TypeSummary    = "summary"
	TypeEpoch      = "epoch"
	TypeSymptom    = "symptom"
	TypeWatermark  = "watermark"
)

// Phases a twitch can fall in.
const (
	PhaseRest         = "rest"          // at rest with no exercise bout before it in the window
	PhasePostExercise = "post_exercise" // at rest after an exercise bout, activity not yet resumed
	PhaseActivity     = "activity"      // during movement or voluntary contraction
)

// Sensors an event can come from.
const (
	SensorEMG  = "emg"     // surface EMG (KindEMG channels)
	SensorAcc  = "acc"     // accelerometer (KindAcc channels)
	SensorBoth = "acc+emg" // a bout seen by both
)

// Intensities of activity, from per-epoch cut-points.
const (
	IntensitySedentary = "sedentary"
	IntensityLight     = "light"
	IntensityModerate  = "moderate"
	IntensityVigorous  = "vigorous"
)

// Event is anything a detector or rule reports. Every event has a type
// name and a time that orders it within its stream (its start).
type Event interface {
	EventType() string
	At() Timestamp
}

// Tags identify whose data an event is about. They become InfluxDB tags.
type Tags struct {
	Subject string `json:"subject"`
	Site    string `json:"site"`
	Session string `json:"session,omitempty"`
}

// Twitch is a brief involuntary contraction: one fasciculation potential or
// a short burst of them (EMG), or a small damped jerk of the limb at rest
// (accelerometer).
type Twitch struct {
	Start Timestamp `json:"start"`
	End   Timestamp `json:"end"`
	Tags
	Sensor  string  `json:"sensor"`  // "emg" or "acc"
	Channel string  `json:"channel"` // column name; the group name for a 3-axis accelerometer
	Peak    float64 `json:"peak"`    // peak amplitude: band-passed EMG in mV, or dynamic acceleration in g
	Phase   string  `json:"phase"`   // PhaseRest, PhasePostExercise or PhaseActivity
	// SNR is the peak over the channel's robust noise floor (median + MAD based).
	SNR float64 `json:"snr"`
	// Potentials counts the separate potentials merged into this burst (EMG).
	Potentials int `json:"potentials,omitempty"`
	// Confirmed is true when the other modality saw the same twitch.
	Confirmed bool `json:"confirmed,omitempty"`
}

// Bout is a period of exercise.
type Bout struct {
	Start Timestamp `json:"start"`
	End   Timestamp `json:"end"`
	Tags
	Sensor    string  `json:"sensor"`    // "acc", "emg" or "acc+emg"
	Intensity string  `json:"intensity"` // IntensityLight, IntensityModerate or IntensityVigorous
	MeanENMO  float64 `json:"mean_enmo_mg,omitempty"`
	PeakENMO  float64 `json:"peak_enmo_mg,omitempty"`
	PeakAcc   float64 `json:"peak_acc_g,omitempty"`      // strength proxy: peak dynamic acceleration
	PeakRMS   float64 `json:"peak_emg_rms_mv,omitempty"` // strength proxy: peak EMG RMS over 250 ms
	MeanRMS   float64 `json:"mean_emg_rms_mv,omitempty"`
}

// Rest is a period without exercise, reported when it ends.
type Rest struct {
	Start Timestamp `json:"start"`
	End   Timestamp `json:"end"`
	Tags
	AfterExercise bool `json:"after_exercise"`
}

// Cramp is a sustained involuntary contraction at rest.
type Cramp struct {
	Start Timestamp `json:"start"`
	End   Timestamp `json:"end"`
	Tags
	Sensor  string  `json:"sensor"`
	Channel string  `json:"channel"`
	Peak    float64 `json:"peak"`
	MeanRMS float64 `json:"mean_rms"`
}

// Assessment is the persistence rule's verdict for a subject and site.
type Assessment struct {
	Time Timestamp `json:"time"`
	Tags
	Status string   `json:"status"`
	Reason string   `json:"reason"`
	Advice []string `json:"advice"`
	Notice string   `json:"notice"`
	// Numbers the verdict was based on, by name (rates per minute, counts).
	Measures map[string]float64 `json:"measures,omitempty"`
}

// ChannelSummary reports what one channel delivered.
type ChannelSummary struct {
	Name    string  `json:"name"`
	Kind    string  `json:"kind"`
	Unit    string  `json:"unit"`
	RateHz  float64 `json:"rate_hz"`
	Samples int64   `json:"samples"`
}

// Summary closes each stream.
type Summary struct {
	Tags
	File            string           `json:"file"`
	Format          string           `json:"format"`
	Start           Timestamp        `json:"start"`
	End             Timestamp        `json:"end"`
	Channels        []ChannelSummary `json:"channels"`
	SkippedLines    int64            `json:"skipped_lines"`
	LostSamples     int64            `json:"lost_samples"`
	Bouts           int              `json:"bouts"`
	Twitches        int              `json:"twitches"`
	Cramps          int              `json:"cramps"`
	Interrupted     bool             `json:"interrupted,omitempty"`
	SkippedExamples []string         `json:"skipped_examples,omitempty"`
}

// Count adds ev to the summary's count of its type, for the types the
// summary counts (twitches, bouts, cramps); other events leave it as it is.
func (s *Summary) Count(ev Event) {
	switch ev.EventType() {
	case TypeTwitch:
		s.Twitches++
	case TypeBout:
		s.Bouts++
	case TypeCramp:
		s.Cramps++
	}
}

// Epoch carries per-epoch activity features of one sensor: ENMO and
// intensity for an accelerometer, RMS for an EMG channel. Epochs feed the
// InfluxDB "activity" measurement and are left out of the events file
// unless asked for.
type Epoch struct {
	Start Timestamp `json:"start"`
	End   Timestamp `json:"end"`
	Tags
	Sensor    string  `json:"sensor"`
	Channel   string  `json:"channel"`
	ENMO      float64 `json:"enmo_mg,omitempty"` // mean ENMO in milli-g (accelerometer)
	RMS       float64 `json:"rms_mv,omitempty"`  // RMS of band-passed EMG in mV
	Noise     float64 `json:"noise,omitempty"`   // robust noise floor estimate in the channel's unit
	Intensity string  `json:"intensity,omitempty"`
}

// Symptom is something a person logged (twitchd note).
type Symptom struct {
	Time Timestamp `json:"time"`
	Tags
	Symptom string `json:"symptom"`
	Text    string `json:"text,omitempty"`
}

// Watermark is a promise, not an observation: no event starting before
// Time will follow in this stream. Detectors decide some events late (a
// bout is known when it ends; a twitch's phase once the activity around
// it is settled), so they emit events as soon as they are final, out of
// order, and the Runner sends Watermarks; a sink that must write in time
// order (the events file) holds events until a Watermark passes them.
// Watermarks are never written out.
type Watermark struct {
	Time Timestamp
}

// Watermarker is implemented by Processors that emit events late; the
// Runner asks after every batch. ok is false when nothing is pending.
type Watermarker interface {
	Watermark() (t int64, ok bool)
}

// EventType implements Event.
func (e *Watermark) EventType() string { return TypeWatermark }

// At implements Event: the time that orders the event in its stream.
func (e *Watermark) At() Timestamp { return e.Time }

// EventType implements Event.
func (e *Twitch) EventType() string { return TypeTwitch }

// EventType implements Event.
func (e *Bout) EventType() string { return TypeBout }

// EventType implements Event.
func (e *Rest) EventType() string { return TypeRest }

// EventType implements Event.
func (e *Cramp) EventType() string { return TypeCramp }

// EventType implements Event.
func (e *Assessment) EventType() string { return TypeAssessment }

// EventType implements Event.
func (e *Summary) EventType() string { return TypeSummary }

// EventType implements Event.
func (e *Epoch) EventType() string { return TypeEpoch }

// EventType implements Event.
func (e *Symptom) EventType() string { return TypeSymptom }

// At implements Event: the time that orders the event in its stream.
func (e *Twitch) At() Timestamp { return e.Start }

// At implements Event: the time that orders the event in its stream.
func (e *Bout) At() Timestamp { return e.Start }

// At implements Event: the time that orders the event in its stream.
func (e *Rest) At() Timestamp { return e.Start }

// At implements Event: the time that orders the event in its stream.
func (e *Cramp) At() Timestamp { return e.Start }

// At implements Event: the time that orders the event in its stream.
func (e *Assessment) At() Timestamp { return e.Time }

// At implements Event: the time that orders the event in its stream.
func (e *Summary) At() Timestamp { return e.End }

// At implements Event: the time that orders the event in its stream.
func (e *Epoch) At() Timestamp { return e.Start }

// At implements Event: the time that orders the event in its stream.
func (e *Symptom) At() Timestamp { return e.Time }

// MarshalEvent encodes ev as one JSON object with its "type" field first.
func MarshalEvent(ev Event) ([]byte, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("pipeline: marshal %s event: %w", ev.EventType(), err)
	}
	out := make([]byte, 0, len(body)+len(ev.EventType())+10)
	out = append(out, `{"type":"`...)
	out = append(out, ev.EventType()...)
	out = append(out, '"')
	if len(body) > 2 {
		out = append(out, ',')
	}
	return append(out, body[1:]...), nil
}

// UnmarshalEvent decodes one JSON object written by MarshalEvent.
func UnmarshalEvent(b []byte) (Event, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("pipeline: event: %w", err)
	}
	var ev Event
	switch head.Type {
	case TypeTwitch:
		ev = new(Twitch)
	case TypeBout:
		ev = new(Bout)
	case TypeRest:
		ev = new(Rest)
	case TypeCramp:
		ev = new(Cramp)
	case TypeAssessment:
		ev = new(Assessment)
	case TypeSummary:
		ev = new(Summary)
	case TypeEpoch:
		ev = new(Epoch)
	case TypeSymptom:
		ev = new(Symptom)
	default:
		return nil, fmt.Errorf("pipeline: unknown event type %q", head.Type)
	}
	if err := json.Unmarshal(b, ev); err != nil {
		return nil, fmt.Errorf("pipeline: %s event: %w", head.Type, err)
	}
	return ev, nil
}
