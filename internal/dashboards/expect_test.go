package dashboards

import (
	"sort"
	"strconv"
	"time"

	"github.com/twitchd/twitchd/pipeline"
)

// expected holds what each panel must show for one subject and site,
// computed from the events files alone.
type expected struct {
	subject, site string
	// lastStatus is the last assessment of each site of the subject.
	lastStatus map[string]*pipeline.Assessment
	// assessments of the site, in time order.
	assessments []*pipeline.Assessment
	// twitchesPerDay counts distinct twitches by day and phase.
	twitchesPerDay map[dayKey]int64
	// twitchN and restH are the twitches at rest and the hours of rest
	// by day and kind ("after exercise", "at rest without exercise").
	twitchN map[dayKey]float64
	restH   map[dayKey]float64
	// heat counts distinct twitches by day and hour.
	heat map[dayKey]int
	// boutMin sums bout minutes by day and intensity; peak is the
	// highest intensity level of each day.
	boutMin map[dayKey]float64
	peak    map[time.Time]int64
	cramps  []*pipeline.Cramp
	// symptoms of the subject for the site or for every site.
	symptoms []*pipeline.Symptom
	// sensors counts twitches and confirmed ones by site and sensor.
	sensors map[[2]string][2]int64
	// peaks are the twitch peaks of the site by sensor, sorted.
	peaks map[string][]float64
	// summaries of every file of the subject.
	summaries []*pipeline.Summary
	// epochs counts the activity epochs of each session: dashtest makes
	// InfluxDB reject them all.
	epochs map[string]int64
	// activity are the site's epochs (dashtest also writes them into the
	// raw activity policy, and downsamples them hourly).
	activity []*pipeline.Epoch
}

// activityMeans returns the mean of the epochs' value of sensor per
// window (Flux's windows, aligned to the Unix epoch) at the window's end,
// as aggregateWindow reports it.
func (e *expected) activityMeans(sensor string, window time.Duration) map[time.Time]float64 {
	sum, n := map[time.Time]float64{}, map[time.Time]float64{}
	for _, x := range e.activity {
		if x.Sensor != sensor {
			continue
		}
		v := x.ENMO
		if sensor == pipeline.SensorEMG {
			v = x.RMS
		}
		k := x.Start.Time().UTC().Truncate(window).Add(window)
		sum[k] += v
		n[k]++
	}
	for k := range sum {
		sum[k] /= n[k]
	}
	return sum
}

// dayKey is a UTC day and a series name (phase, kind, intensity, hour).
type dayKey struct {
	day time.Time
	key string
}

func day(t pipeline.Timestamp) time.Time { return t.Time().Truncate(24 * time.Hour) }

var intensityLevels = map[string]int64{"light": 1, "moderate": 2, "vigorous": 3}

// expect computes what the dashboards must show for subject and site
// from evs, the events files' contents.
func expect(evs []pipeline.Event, subject, site string) *expected {
	e := &expected{subject: subject, site: site, lastStatus: map[string]*pipeline.Assessment{},
		twitchesPerDay: map[dayKey]int64{}, twitchN: map[dayKey]float64{}, restH: map[dayKey]float64{},
		heat: map[dayKey]int{}, boutMin: map[dayKey]float64{}, peak: map[time.Time]int64{},
		sensors: map[[2]string][2]int64{}, peaks: map[string][]float64{}, epochs: map[string]int64{}}
	for _, ev := range evs {
		switch x := ev.(type) {
		case *pipeline.Twitch:
			if x.Subject != subject {
				continue
			}
			k := [2]string{x.Site, x.Sensor}
			c := e.sensors[k]
			c[0]++
			if x.Confirmed {
				c[1]++
			}
			e.sensors[k] = c
			if x.Site == site {
				e.twitch(x)
			}
		case *pipeline.Rest:
			if x.Subject == subject && x.Site == site {
				e.restH[dayKey{day(x.Start), restKind(x.AfterExercise)}] += float64(x.End-x.Start) / 1e9 / 3600
			}
		case *pipeline.Bout:
			if x.Subject == subject && x.Site == site {
				e.boutMin[dayKey{day(x.Start), x.Intensity}] += float64(x.End-x.Start) / 1e9 / 60
				e.peak[day(x.Start)] = max(e.peak[day(x.Start)], intensityLevels[x.Intensity])
			}
		case *pipeline.Cramp:
			if x.Subject == subject && x.Site == site {
				e.cramps = append(e.cramps, x)
			}
		case *pipeline.Assessment:
			if x.Subject != subject {
				continue
			}
			if last := e.lastStatus[x.Site]; last == nil || x.Time >= last.Time {
				e.lastStatus[x.Site] = x
			}
			if x.Site == site {
				e.assessments = append(e.assessments, x)
			}
		case *pipeline.Symptom:
			if x.Subject == subject && (x.Site == "" || x.Site == site) {
				e.symptoms = append(e.symptoms, x)
			}
		case *pipeline.Summary:
			if x.Subject == subject {
				e.summaries = append(e.summaries, x)
			}
		case *pipeline.Epoch:
			e.epochs[x.Session]++
			if x.Subject == subject && x.Site == site {
				e.activity = append(e.activity, x)
			}
		}
	}
	sort.SliceStable(e.assessments, func(i, j int) bool { return e.assessments[i].Time < e.assessments[j].Time })
	for _, p := range e.peaks {
		sort.Float64s(p)
	}
	return e
}

func (e *expected) twitch(x *pipeline.Twitch) {
	e.peaks[x.Sensor] = append(e.peaks[x.Sensor], x.Peak)
	if x.Sensor != "emg" && x.Confirmed {
		return // the EMG twitch it confirmed counts
	}
	d := day(x.Start)
	e.twitchesPerDay[dayKey{d, x.Phase}]++
	e.heat[dayKey{d, strconv.Itoa(x.Start.Time().Hour())}]++
	switch x.Phase {
	case pipeline.PhasePostExercise:
		e.twitchN[dayKey{d, restKind(true)}]++
	case pipeline.PhaseRest:
		e.twitchN[dayKey{d, restKind(false)}]++
	}
}

func restKind(afterExercise bool) string {
	if afterExercise {
		return "after exercise"
	}
	return "at rest without exercise"
}

// rates returns the expected twitch rate per hour of rest by day and kind.
func (e *expected) rates() map[dayKey]float64 {
	out := map[dayKey]float64{}
	for k, h := range e.restH {
		if h > 0 {
			out[k] = e.twitchN[k] / h
		}
	}
	return out
}

// statusWindows returns the level of the last assessment in each window
// of length w (aligned to the Unix epoch, as aggregateWindow does), at
// the window's end.
func (e *expected) statusWindows(w time.Duration) map[time.Time]int64 {
	out := map[time.Time]int64{}
	for _, a := range e.assessments {
		stop := a.Time.Time().Truncate(w).Add(w)
		out[stop] = int64(pipeline.Status(a.Status).Level())
	}
	return out
}
