package influx

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/twitchd/twitchd/internal/schema"
	"github.com/twitchd/twitchd/pipeline"
)

// errNoFields is returned for an event that would make a point without
// fields, which line protocol cannot express.
var errNoFields = errors.New("event has no field to write")

type fieldKind uint8

const (
	kindFloat fieldKind = iota
	kindInt
	kindBool
	kindString
)

// field is one field of a point; i holds ints and bools (0 or 1).
type field struct {
	key  string
	kind fieldKind
	f    float64
	i    int64
	s    string
}

type tag struct{ key, value string }

// maxTags bounds the tags of any measurement (subject, site, sensor,
// channel and one categorical tag).
const maxTags = 8

// point is one InfluxDB point as the schema builds it, before it is
// rendered as line protocol or as a *write.Point. Its storage is inline
// so that a point on the stack encodes an event without allocating.
type point struct {
	measurement string
	time        int64 // Unix ns
	session     string
	ntags       int
	tags        [maxTags]tag
	fields      []field
	fieldBuf    [16]field
}

func (p *point) reset(measurement string, t pipeline.Timestamp) {
	p.measurement, p.time, p.ntags, p.session = measurement, int64(t), 0, ""
	p.fields = p.fieldBuf[:0]
}

// tag adds a tag unless its value is empty (line protocol has no empty tags).
func (p *point) tag(key, value string) {
	if value != "" {
		p.tags[p.ntags] = tag{key, value}
		p.ntags++
	}
}

// float adds a float field unless v is NaN or infinite, which line
// protocol cannot carry.
func (p *point) float(key string, v float64) {
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		p.fields = append(p.fields, field{key: key, kind: kindFloat, f: v})
	}
}

func (p *point) int(key string, v int64) {
	p.fields = append(p.fields, field{key: key, kind: kindInt, i: v})
}

func (p *point) bool(key string, v bool) {
	f := field{key: key, kind: kindBool}
	if v {
		f.i = 1
	}
	p.fields = append(p.fields, f)
}

// str adds a string field unless v is empty.
func (p *point) str(key, v string) {
	if v != "" {
		p.fields = append(p.fields, field{key: key, kind: kindString, s: v})
	}
}

// ids adds the subject and site tags and notes the session, which
// endSession adds as a field once the event's own fields are in.
func (p *point) ids(t pipeline.Tags) {
	p.tag(schema.TagSubject, t.Subject)
	p.tag(schema.TagSite, t.Site)
	p.session = t.Session
}

// endSession adds the session field.
func (p *point) endSession() { p.str(schema.FieldSession, p.session) }

// shift moves the point by its session's schema.SessionShift, for the
// measurements without a sensor tag whose times two recordings may share.
func (p *point) shift() { p.time += schema.SessionShift(p.session) }

// channel adds the tags of an event from one sensor channel.
func (p *point) channel(t pipeline.Tags, sensor, channel string) {
	p.ids(t)
	p.tag(schema.TagSensor, sensor)
	p.tag(schema.TagChannel, channel)
}

func seconds(start, end pipeline.Timestamp) float64 { return float64(end-start) / 1e9 }

// Intensity levels: the activity intensity as a number for graphs,
// sedentary 0 to vigorous 3; -1 when unknown.
func intensityLevel(s string) int64 {
	switch s {
	case pipeline.IntensitySedentary:
		return 0
	case pipeline.IntensityLight:
		return 1
	case pipeline.IntensityModerate:
		return 2
	case pipeline.IntensityVigorous:
		return 3
	}
	return -1
}

// statusLevel orders the persistence rule's statuses by concern
// (pipeline.Status.Level); -1 when unknown.
func statusLevel(s string) int64 { return int64(pipeline.Status(s).Level()) }

// fill sets p to the point for ev. It returns an error for an event type
// the schema does not know and for an event with nothing to write.
func fill(p *point, ev pipeline.Event) error {
	switch e := ev.(type) {
	case *pipeline.Twitch:
		p.reset(schema.Twitch, e.Start)
		p.channel(e.Tags, e.Sensor, e.Channel)
		p.tag(schema.TagPhase, e.Phase)
		p.float(schema.FieldPeak, e.Peak)
		p.float(schema.FieldSNR, e.SNR)
		p.float(schema.FieldDuration, seconds(e.Start, e.End))
		p.int(schema.FieldPotentials, int64(e.Potentials))
		p.bool(schema.FieldConfirmed, e.Confirmed)
	case *pipeline.Bout:
		p.reset(schema.Bout, e.Start)
		p.ids(e.Tags)
		p.tag(schema.TagSensor, e.Sensor)
		p.tag(schema.TagIntensity, e.Intensity)
		p.float(schema.FieldDuration, seconds(e.Start, e.End))
		if strings.Contains(e.Sensor, pipeline.SensorAcc) {
			p.float(schema.FieldMeanENMO, e.MeanENMO)
			p.float(schema.FieldPeakENMO, e.PeakENMO)
			p.float(schema.FieldPeakAcc, e.PeakAcc)
		}
		if strings.Contains(e.Sensor, pipeline.SensorEMG) {
			p.float(schema.FieldPeakEMGRMS, e.PeakRMS)
			p.float(schema.FieldMeanEMGRMS, e.MeanRMS)
		}
		if l := intensityLevel(e.Intensity); l >= 0 {
			p.int(schema.FieldIntensityLevel, l)
		}
	case *pipeline.Rest:
		p.reset(schema.Rest, e.Start)
		p.ids(e.Tags)
		p.float(schema.FieldDuration, seconds(e.Start, e.End))
		p.bool(schema.FieldAfterExercise, e.AfterExercise)
	case *pipeline.Cramp:
		p.reset(schema.Cramp, e.Start)
		p.channel(e.Tags, e.Sensor, e.Channel)
		p.float(schema.FieldDuration, seconds(e.Start, e.End))
		p.float(schema.FieldPeak, e.Peak)
		p.float(schema.FieldMeanRMS, e.MeanRMS)
	case *pipeline.Epoch:
		p.reset(schema.Activity, e.Start)
		p.channel(e.Tags, e.Sensor, e.Channel)
		p.tag(schema.TagIntensity, e.Intensity)
		if e.Sensor == pipeline.SensorAcc || e.ENMO != 0 {
			p.float(schema.FieldENMO, e.ENMO)
		}
		if e.Sensor == pipeline.SensorEMG || e.RMS != 0 {
			p.float(schema.FieldRMS, e.RMS)
		}
		p.float(schema.FieldNoise, e.Noise)
		if l := intensityLevel(e.Intensity); l >= 0 {
			p.int(schema.FieldIntensityLevel, l)
		}
		p.float(schema.FieldDuration, seconds(e.Start, e.End))
	case *pipeline.Assessment:
		fillAssessment(p, e)
	case *pipeline.Summary:
		p.reset(schema.Ingest, e.Start)
		p.ids(e.Tags)
		p.shift()
		var samples int64
		for _, c := range e.Channels {
			samples += c.Samples
		}
		p.int(schema.FieldSamples, samples)
		p.float(schema.FieldDuration, seconds(e.Start, e.End))
		p.int(schema.FieldSkippedLines, e.SkippedLines)
		p.int(schema.FieldLostSamples, e.LostSamples)
		p.int(schema.FieldTwitches, int64(e.Twitches))
		p.int(schema.FieldBouts, int64(e.Bouts))
		p.int(schema.FieldCramps, int64(e.Cramps))
		p.str(schema.FieldFile, e.File)
		p.str(schema.FieldFormat, e.Format)
		if e.Segment > 0 {
			p.int(schema.FieldSegment, int64(e.Segment))
		}
		if e.ClockStepS != 0 {
			p.float(schema.FieldClockStep, e.ClockStepS)
		}
	case *pipeline.Symptom:
		p.reset(schema.Symptom, e.Time)
		p.ids(e.Tags)
		p.tag(schema.TagSymptom, e.Symptom)
		p.str(schema.FieldText, e.Text)
		p.int(schema.FieldCount, 1)
	default:
		return fmt.Errorf("influx: no schema for %q events", ev.EventType())
	}
	if len(p.fields) == 0 {
		return fmt.Errorf("influx: %s event at %v: %w", ev.EventType(), ev.At(), errNoFields)
	}
	p.endSession()
	return nil
}

func fillAssessment(p *point, e *pipeline.Assessment) {
	p.reset(schema.Assessment, e.Time)
	p.ids(e.Tags)
	p.shift()
	p.tag(schema.TagStatus, e.Status)
	if l := statusLevel(e.Status); l >= 0 {
		p.int(schema.FieldStatusLevel, l)
	}
	p.str(schema.FieldReason, e.Reason)
	if len(e.Advice) > 0 {
		p.str(schema.FieldAdvice, strings.Join(e.Advice, schema.AdviceSeparator))
	}
	p.str(schema.FieldNotice, e.Notice)
	first := len(p.fields)
	for k, v := range e.Measures {
		if schema.AssessmentField(k) {
			k = schema.MeasurePrefix + k
		}
		p.float(k, v)
	}
	// Map order is random; sorted fields make the line reproducible.
	slices.SortFunc(p.fields[first:], func(a, b field) int { return strings.Compare(a.key, b.key) })
}

// Points converts ev to the InfluxDB points of twitchd's schema (one per
// event today) for callers that use the client's write.Point. It returns
// an error for an event type the schema does not know.
func Points(ev pipeline.Event) ([]*write.Point, error) {
	var p point
	if err := fill(&p, ev); err != nil {
		return nil, err
	}
	wp := write.NewPointWithMeasurement(p.measurement)
	for _, t := range p.tags[:p.ntags] {
		wp.AddTag(t.key, t.value)
	}
	for _, f := range p.fields {
		switch f.kind {
		case kindFloat:
			wp.AddField(f.key, f.f)
		case kindInt:
			wp.AddField(f.key, f.i)
		case kindBool:
			wp.AddField(f.key, f.i != 0)
		case kindString:
			wp.AddField(f.key, f.s)
		}
	}
	wp.SetTime(pipeline.Timestamp(p.time).Time())
	return []*write.Point{wp}, nil
}

// AppendLines appends ev in line protocol to dst, one '\n'-terminated line
// per point, and returns the extended slice and the number of points. It
// allocates nothing when dst has room (an assessment with many measures
// excepted). On error dst is returned unchanged.
func AppendLines(dst []byte, ev pipeline.Event) ([]byte, int, error) {
	var p point
	if err := fill(&p, ev); err != nil {
		return dst, 0, err
	}
	return p.appendLine(dst), 1, nil
}

// AppendDelivery appends to dst the line protocol line that adds to the
// ingest point of the file s summarises how many of the file's points the
// server rejected (points_rejected), once the sink has flushed them. It
// has the ingest point's measurement, tags and time, so InfluxDB merges
// the field into that point; the dashboards' ingest table shows it.
func AppendDelivery(dst []byte, s *pipeline.Summary, rejected int64) []byte {
	var p point
	p.reset(schema.Ingest, s.Start)
	p.ids(s.Tags)
	p.shift()
	p.int(schema.FieldPointsRejected, rejected)
	return p.appendLine(dst)
}
