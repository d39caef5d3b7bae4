// Package schema names what twitchd stores in InfluxDB: its measurements,
// tags and fields. internal/sink/influx writes points with these names;
// internal/rule/history, the report and the dashboards read them back.
// Defining them here, once, keeps the writer and the readers from
// drifting apart. The tables in internal/sink/influx/README.md document
// the types and units of every field.
//
// The package holds names only and imports nothing but pipeline, so any
// package may import it.
package schema

import "github.com/twitchd/twitchd/pipeline"

// Measurements. Most are named after the event type they store.
const (
	Twitch     = pipeline.TypeTwitch
	Bout       = pipeline.TypeBout
	Rest       = pipeline.TypeRest
	Cramp      = pipeline.TypeCramp
	Assessment = pipeline.TypeAssessment
	Symptom    = pipeline.TypeSymptom
	// Activity holds the per-epoch features (pipeline.Epoch events).
	Activity = "activity"
	// Ingest holds one point per file or live stream (pipeline.Summary).
	Ingest = "ingest"
)

// Tags every measurement carries (left out when empty).
const (
	TagSubject = "subject"
	TagSite    = "site"
)

// TagSession is the recording's tag in the schema before issue 12: every
// point then carried it, so series grew with sessions. Points written
// since carry the recording in FieldSession instead; the readers
// (internal/rule/history) read both, since both end up in a column named
// "session" once fields are pivoted into columns.
const TagSession = "session"

// Tags of some measurements.
const (
	TagSensor    = "sensor"    // twitch, bout, cramp, activity: pipeline.SensorEMG, SensorAcc or SensorBoth
	TagChannel   = "channel"   // twitch, cramp, activity
	TagPhase     = "phase"     // twitch: pipeline.PhaseRest, PhasePostExercise or PhaseActivity
	TagIntensity = "intensity" // bout, activity: pipeline.IntensitySedentary … IntensityVigorous
	TagStatus    = "status"    // assessment: a pipeline.Status
	TagSymptom   = "symptom"   // symptom: weakness, clumsiness, cramps or other
)

// Fields. Each comment names the measurements that have it.
const (
	// FieldSession is the recording (pipeline.Tags.Session) as a string
	// field of every measurement, so that the number of series grows with
	// subjects, sites and sensors, not with recordings. Left out when empty.
	FieldSession        = "session"
	FieldDuration       = "duration_s"      // every measurement with a start and an end
	FieldPeak           = "peak"            // twitch, cramp
	FieldSNR            = "snr"             // twitch
	FieldPotentials     = "potentials"      // twitch (int)
	FieldConfirmed      = "confirmed"       // twitch (bool)
	FieldIntensityLevel = "intensity_level" // bout, activity (int)
	FieldMeanENMO       = "mean_enmo_mg"    // bout
	FieldPeakENMO       = "peak_enmo_mg"    // bout
	FieldPeakAcc        = "peak_acc_g"      // bout
	FieldPeakEMGRMS     = "peak_emg_rms_mv" // bout
	FieldMeanEMGRMS     = "mean_emg_rms_mv" // bout
	FieldAfterExercise  = "after_exercise"  // rest (bool)
	FieldMeanRMS        = "mean_rms"        // cramp
	FieldENMO           = "enmo_mg"         // activity
	FieldRMS            = "rms_mv"          // activity
	FieldNoise          = "noise"           // activity
	FieldStatusLevel    = "status_level"    // assessment (int, pipeline.Status.Level)
	FieldReason         = "reason"          // assessment (string)
	FieldAdvice         = "advice"          // assessment (string, items joined by AdviceSeparator)
	FieldNotice         = "notice"          // assessment (string)
	FieldSamples        = "samples"         // ingest (int)
	FieldSkippedLines   = "skipped_lines"   // ingest (int)
	FieldLostSamples    = "lost_samples"    // ingest (int)
	FieldTwitches       = "twitches"        // ingest (int)
	FieldBouts          = "bouts"           // ingest (int)
	FieldCramps         = "cramps"          // ingest (int)
	FieldPointsRejected = "points_rejected" // ingest (int): points of the file the server rejected, written after its flush
	FieldFile           = "file"            // ingest (string)
	FieldFormat         = "format"          // ingest (string)
	FieldSegment        = "segment"         // ingest (int): a live stream's segment, when host clock steps split it
	FieldClockStep      = "clock_step_s"    // ingest: the host clock step that ended the segment (seconds)
	FieldText           = "text"            // symptom (string)
	FieldCount          = "count"           // symptom (int, always 1)
)

// AdviceSeparator joins an assessment's advice items in FieldAdvice.
const AdviceSeparator = "; "

// MeasurePrefix is put before an assessment measure whose name is one of
// the assessment's own fields (see AssessmentField), so that it cannot
// overwrite it.
const MeasurePrefix = "m_"

// AssessmentField reports whether k is one of the assessment's own field
// names, which a measure must not take: an assessment's measures are
// stored as fields under their own names beside these.
func AssessmentField(k string) bool {
	switch k {
	case FieldStatusLevel, FieldReason, FieldAdvice, FieldNotice, FieldSession, "time":
		return true
	}
	return false
}

// SessionShift returns the nanoseconds (0 to 999 999) added to the time of
// a recording's assessment and ingest points. Those measurements have no
// sensor or channel tag, and two recordings of one subject and site (an
// EMG file and an accelerometer file of the same hour, two segments of a
// live stream after a backward clock step) can be assessed, or start, at
// the same nanosecond; without the session tag they would be one point.
// The shift is derived from the session alone, so a replay of the same
// recording lands on its own points again, and two recordings collide
// only if their times also fall within the same millisecond with the same
// shift (one in a million). Readers do not undo it: it is under a
// millisecond. Events (twitch, bout, rest, cramp, activity, symptom) keep
// their own times, which are unique per subject, site and sensor channel
// in practice.
func SessionShift(session string) int64 {
	if session == "" {
		return 0
	}
	// FNV-1a, 64 bits.
	h := uint64(14695981039346656037)
	for i := 0; i < len(session); i++ {
		h ^= uint64(session[i])
		h *= 1099511628211
	}
	return int64(h % 1_000_000)
}

// Retention policies and the continuous query that `twitchd influx
// setup` creates in the database (see internal/influxsetup).
const (
	// RPActivityRaw keeps per-epoch activity points for a limited time.
	RPActivityRaw = "activity_raw"
	// RPActivityHourly keeps the hourly downsampled activity for ever.
	RPActivityHourly = "activity_1h"
	// CQActivityHourly downsamples RPActivityRaw into RPActivityHourly.
	CQActivityHourly = "activity_1h"
)

// Fields of the hourly downsampled activity (measurement Activity in
// RPActivityHourly, tags subject, site, sensor and channel): means of the
// raw fields under their own names, maxima with a _max suffix, and the
// seconds of epochs the hour holds.
const (
	FieldENMOMax           = "enmo_mg_max"
	FieldRMSMax            = "rms_mv_max"
	FieldIntensityLevelMax = "intensity_level_max"
)
