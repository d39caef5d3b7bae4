package realdata

import "time"

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// rest and act build stretches in seconds.
func rest(a, b float64, note string) Stretch { return Stretch{From: sec(a), To: sec(b), Note: note} }
func act(a, b float64, note string) Stretch {
	return Stretch{From: sec(a), To: sec(b), Active: true, Note: note}
}

// myoColumns names the Myo armband dump's columns: eight EMG channels and
// the gesture label.
var myoColumns = []string{"emg_1", "emg_2", "emg_3", "emg_4", "emg_5", "emg_6", "emg_7", "emg_8", "label"}

// All returns the catalogue: every file of the folder that is a
// recording (the EDF reference text files are not), in path order.
func All() []Recording {
	return []Recording{
		{Path: "accel/actigraph_neo_30hz.csv", Sensors: Acc,
			Contents: "ActiGraph GT3X+ (ActiLife raw CSV), 30 Hz, 10 min: still 0-4 min, moved 4-9 min, still after",
			Stretches: []Stretch{
				rest(0, 240, "still (PROVENANCE.md)"),
				act(240, 540, "moved (PROVENANCE.md)"),
				rest(540, 601, "still (PROVENANCE.md)"),
			}},
		{Path: "accel/axivity_ax3_testfile.cwa", Sensors: Acc,
			Contents:  "Axivity AX3 (CWA), 100 Hz, 174 s wrist recording",
			Stretches: []Stretch{act(0, 176, "intermittent wrist movement: 5 s epochs alternate 0 and 50-85 mg ENMO")}},
		{Path: "accel/axivity_ax3_testfile_export.csv", Columns: []string{"unix_time", "x", "y", "z"}, Sensors: Acc,
			Contents:  "the AX3 recording exported by GGIR: unix_time,x,y,z in g, no header row",
			SameAs:    "accel/axivity_ax3_testfile.cwa",
			Stretches: []Stretch{act(0, 176, "intermittent wrist movement: 5 s epochs alternate 0 and 50-85 mg ENMO")}},
		{Path: "accel/biosppy_acc.txt", Columns: []string{"acc_x", "acc_y", "acc_z"}, Sensors: Acc,
			Contents:  "BioSPPy example: 3 columns in g (the header says m/s^2), rate from the '# Sampling Rate' comment (100 Hz), 20 s of movement",
			Stretches: []Stretch{act(0, 20, "movement (PROVENANCE.md)")}},
		{Path: "accel/plux_cacc_opensignals.txt", Sensors: Acc,
			Contents:  "biosignalsplux triaxial accelerometer (OpenSignals text, raw ADC through PLUX's transfer function), 1000 Hz, 30 s",
			Stretches: []Stretch{act(0, 31, "the sensor moves throughout: 0.4 g RMS in 4-25 Hz")}},
		{Path: "edf/bids_holdweight_emg.edf", Sensors: EMG,
			Contents:  "BIDS example: 1 s of EMG1 at 2000 Hz while holding a weight (a parser fixture)",
			Stretches: []Stretch{act(0, 1, "holding a weight (file name)")}},
		{Path: "edf/edfreader_bdfPlusC.bdf",
			Contents:      "edfReader test file: generated test signals (square wave, ramp, ECG, sines)",
			NotAnalysable: "decoder fixture of generated test signals: no EMG or accelerometer channel"},
		{Path: "edf/edfreader_edfAnnonC.edf",
			Contents:      "edfReader test file: two generated channels and annotations",
			NotAnalysable: "decoder fixture of generated test signals: no EMG or accelerometer channel"},
		{Path: "edf/edfreader_edfPlusC.edf",
			Contents:      "edfReader test file: generated test signals (square wave, ramp, ECG, sines)",
			NotAnalysable: "decoder fixture of generated test signals: no EMG or accelerometer channel"},
		{Path: "emg/biosppy_emg_bursts.txt", Columns: []string{"emg"}, Map: []string{"emg=emg:bitalino12"}, Sensors: EMG,
			Contents: "BioSPPy example: raw 12-bit ADC, one value per line, 1000 Hz from the '# Sampling Rate' comment, 63.9 s: bursts near 1.5 s, 15-17 s, 25-27 s, rest otherwise",
			Stretches: []Stretch{
				rest(0, 1, ""), act(1, 2.5, "burst near 1.5 s (PROVENANCE.md; envelope 1.5-2 s)"),
				rest(2.5, 14.5, ""), act(14.5, 17, "burst 15-17 s (PROVENANCE.md; envelope 15-16.5 s)"),
				rest(17, 24.5, ""), act(24.5, 27, "burst 25-27 s (PROVENANCE.md; envelope 24.75-26.25 s)"),
				rest(27, 64, "weak bursts near 35-40 s (2-4 times the baseline)"),
			}},
		{Path: "emg/biosppy_emg_rest.txt", Columns: []string{"emg"}, Map: []string{"emg=emg:bitalino12"}, Sensors: EMG,
			Contents:  "BioSPPy example: raw 12-bit ADC, 1000 Hz, 100 s of quiet baseline",
			Stretches: []Stretch{rest(0, 100, "quiet baseline (PROVENANCE.md)")}},
		{Path: "emg/myo_fist_labelled.txt", Rate: 200, Columns: myoColumns, Map: []string{"emg_*=emg:uV,scale=10"}, Sensors: EMG,
			Contents:  "Myo armband dump: 8 int8 EMG channels and a label (0 rest, 7 fist), no header, ~200 Hz, 60 s",
			Stretches: myoFist()},
		{Path: "emg/myo_rest_labelled.txt", Rate: 200, Columns: myoColumns, Map: []string{"emg_*=emg:uV,scale=10"}, Sensors: EMG,
			Contents:  "Myo armband dump, rest only (label 0), ~200 Hz, 60.5 s",
			Stretches: []Stretch{rest(0, 61, "label 0 throughout")}},
		{Path: "emg/plux_biceps_bursts.csv", Rate: 1000, Map: []string{"emg_raw_adc=emg:plux16"}, Sensors: EMG,
			Contents:  "biosignalsplux biceps EMG, 16-bit raw counts, 1000 Hz, 28.5 s: 10 contraction bursts",
			Stretches: pluxBursts()},
		{Path: "emg/plux_biceps_fatigue.csv", Rate: 1000, Map: []string{"emg_raw_adc=emg:plux12"}, Sensors: EMG,
			Contents: "bioplux biceps EMG, 12-bit raw counts, 1000 Hz, 127 s of cyclic exercise to fatigue, about 5 s of rest at the end",
			Stretches: []Stretch{
				act(0, 122, "cyclic flexion and extension (PROVENANCE.md)"),
				rest(122, 127, "rest at the end (PROVENANCE.md)"),
			}},
		{Path: "openbci/OpenBCI-RAW-cyton-v5-jawclench.txt", Sensors: EMG | Acc,
			Contents:  "OpenBCI Cyton, GUI v5 layout, 250 Hz, 90 s of EEG electrodes with jaw-clench EMG bursts",
			SameAs:    "openbci/OpenBCI-RAW-cyton-v6-jawclench.txt",
			Stretches: cytonJaw},
		{Path: "openbci/OpenBCI-RAW-cyton-v6-jawclench.txt", Sensors: EMG | Acc,
			Contents:  "OpenBCI Cyton, GUI v6 layout of the same data",
			Stretches: cytonJaw},
		{Path: "openbci/OpenBCI-RAW-ganglion-myoware-rest.txt", Sensors: EMG,
			Contents:  "OpenBCI Ganglion, legacy layout, 200 Hz, 32 s at rest, forearm EMG through MyoWare on channels 1-2 (accelerometer off)",
			Stretches: []Stretch{rest(0, 33, "rest (PROVENANCE.md)")}},
		{Path: "openbci/OpenBCI-RAW-ganglion-myoware-task.txt", Sensors: EMG,
			Contents: "OpenBCI Ganglion, legacy layout, 200 Hz, 131 s task with EMG contamination (accelerometer off)",
			Stretches: []Stretch{
				rest(0, 64, "quiet EMG (envelope)"),
				act(64, 135, "task: repeated EMG bursts on channels 1-2 (envelope)"),
			}},
	}
}

// cytonJaw are the stretches of the jaw-clench recordings, from the
// 5 s EMG RMS of channels 2-5 (about 45-80 µV against 12-15 µV between):
// a start-up transient and clenching to 17 s, and again from 81 s.
var cytonJaw = []Stretch{
	act(0, 17, "start-up transient, then jaw clenching (EMG envelope)"),
	rest(17, 81, "no clenching (EMG envelope)"),
	act(81, 91, "jaw clenching (EMG envelope)"),
}

// pluxBursts are the biceps contractions of plux_biceps_bursts.csv (nine
// stand out of the envelope; PROVENANCE.md counts ten),
// from the 250 ms EMG envelope (2 to more than 10 times the baseline),
// with the rests between them.
func pluxBursts() []Stretch {
	bursts := [][2]float64{{1.25, 2.75}, {4.5, 6}, {7.5, 9.25}, {11.5, 12.75}, {14.25, 15.75},
		{17, 18.75}, {20, 21.75}, {23, 25}, {26.25, 28}}
	var out []Stretch
	t := 0.0
	for _, b := range bursts {
		out = append(out, rest(t, b[0], "between contractions"), act(b[0], b[1], "contraction (EMG envelope)"))
		t = b[1]
	}
	return append(out, rest(t, 29, ""))
}

// myoFist is the label column of myo_fist_labelled.txt turned into
// stretches: rows 0-967 rest, then fist and rest alternately every ~1000
// rows (5 s at 200 Hz).
func myoFist() []Stretch {
	edges := []float64{0, 4.84, 9.88, 14.93, 19.97, 24.98, 30.05, 35.07, 40.14, 45.17, 50.18, 55.23, 60.3}
	out := make([]Stretch, 0, len(edges)-1)
	for i := 0; i+1 < len(edges); i++ {
		if i%2 == 0 {
			out = append(out, rest(edges[i], edges[i+1], "label 0 (rest)"))
		} else {
			out = append(out, act(edges[i], edges[i+1], "label 7 (fist)"))
		}
	}
	return out
}
