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
	TagSession = "session"
)

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
	case FieldStatusLevel, FieldReason, FieldAdvice, FieldNotice, "time":
		return true
	}
	return false
}
