package pipeline

// Status is the persistence rule's verdict for a subject and site, as
// written in assessments, in InfluxDB (tag "status") and in the
// simulator's labels. It is defined here, once, so that the rule, the
// sinks, the simulator and the dashboards share one vocabulary.
type Status string

// Statuses, from least to most concerning (see Level).
const (
	// StatusNone: no twitch episode.
	StatusNone Status = "none"
	// StatusCeased: twitching stopped once activity resumed: a good sign.
	StatusCeased Status = "ceased"
	// StatusPostExercise: twitching at rest after exercise or other
	// activity, activity not resumed yet (or the evidence after resuming
	// is too thin to judge): expected; keep watching.
	StatusPostExercise Status = "post_exercise"
	// StatusAtRest: twitching at rest with no recorded exercise or
	// activity before it. A first episode is not persistence: watch
	// whether it recurs.
	StatusAtRest Status = "at_rest"
	// StatusPersistent: by the rule's time criteria, twitching went on
	// after activity resumed, continued at rest for hours, or recurred on
	// several days.
	StatusPersistent Status = "persistent"
	// StatusPersistentWithSymptoms: persistent together with cramps, a
	// weakness trend or logged symptoms.
	StatusPersistentWithSymptoms Status = "persistent_with_symptoms"
)

// Statuses lists every Status in order of concern: Statuses[i].Level() == i.
var Statuses = []Status{
	StatusNone, StatusCeased, StatusPostExercise, StatusAtRest,
	StatusPersistent, StatusPersistentWithSymptoms,
}

// Level orders statuses by concern, 0 (none) to 5
// (persistent_with_symptoms); -1 for a name that is not a Status. It is
// the "status_level" field in InfluxDB.
func (s Status) Level() int {
	for i, v := range Statuses {
		if v == s {
			return i
		}
	}
	return -1
}

// Persistent reports whether s asks the person to consider a medical
// opinion: persistent or persistent_with_symptoms.
func (s Status) Persistent() bool {
	return s == StatusPersistent || s == StatusPersistentWithSymptoms
}

// ParseStatus returns the Status named s, and false when s names none.
func ParseStatus(s string) (Status, bool) {
	st := Status(s)
	return st, st.Level() >= 0
}
