package influx

import "github.com/twitchd/twitchd/pipeline"

// sampleEvents returns one or more events of every type the schema
// knows, starting at t and tagged with id, with values that exercise
// every field.
func sampleEvents(id pipeline.Tags, t pipeline.Timestamp) []pipeline.Event {
	const s = pipeline.Timestamp(1e9)
	return []pipeline.Event{
		&pipeline.Bout{Start: t, End: t + 95*s + 250_000_000, Tags: id, Sensor: "acc+emg", Intensity: pipeline.IntensityVigorous,
			MeanENMO: 212.5, PeakENMO: 812.25, PeakAcc: 2.375, PeakRMS: 0.8125, MeanRMS: 0.3},
		&pipeline.Epoch{Start: t, End: t + 5*s, Tags: id, Sensor: "acc", Channel: "acc", ENMO: 180.125, Noise: 0.004, Intensity: pipeline.IntensityModerate},
		&pipeline.Epoch{Start: t, End: t + 5*s, Tags: id, Sensor: "emg", Channel: "emg", RMS: 0.0625, Noise: 0.0031},
		&pipeline.Rest{Start: t + 96*s, End: t + 400*s, Tags: id, AfterExercise: true},
		&pipeline.Twitch{Start: t + 100*s + 123_456_789, End: t + 100*s + 223_456_789, Tags: id, Sensor: "emg", Channel: "emg",
			Peak: 0.1875, Phase: pipeline.PhasePostExercise, SNR: 9.25, Potentials: 2, Confirmed: true},
		&pipeline.Twitch{Start: t + 101*s + 1, End: t + 101*s + 40_000_001, Tags: id, Sensor: "acc", Channel: "acc",
			Peak: 0.0123456789, Phase: pipeline.PhaseRest, SNR: 4.5},
		&pipeline.Cramp{Start: t + 200*s, End: t + 231*s, Tags: id, Sensor: "emg", Channel: "emg", Peak: 1.125, MeanRMS: 0.4375},
		&pipeline.Symptom{Time: t + 300*s, Tags: id, Symptom: "cramp", Text: `calf "knot", 2 min`},
		&pipeline.Assessment{Time: t + 400*s, Tags: id, Status: "post_exercise", Reason: "twitching at rest after exercise",
			Advice: []string{"keep watching", "resume light activity"}, Notice: "not a medical device",
			Measures: map[string]float64{"rate_rest_per_min": 3.5, "twitches": 14}},
		&pipeline.Summary{Tags: id, File: "calf run.csv", Format: "csv", Start: t, End: t + 400*s,
			Channels:     []pipeline.ChannelSummary{{Name: "acc_x", Samples: 40000}, {Name: "emg", Samples: 400000}},
			SkippedLines: 3, LostSamples: 12, Bouts: 1, Twitches: 2, Cramps: 1},
	}
}
