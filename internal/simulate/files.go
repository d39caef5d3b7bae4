package simulate

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// Recording formats that WriteRecording writes.
const (
	FormatCSV    = "csv" // every column: time, EMG, accelerometer
	FormatEDF    = "edf" // EDF+C (see GenerateEDF)
	FormatEMGCSV = "emg" // CSV of time and EMG only, as from an EMG-only device
	FormatAccCSV = "acc" // CSV of the accelerometer samples only
)

// Formats lists the formats WriteRecording takes.
var Formats = []string{FormatCSV, FormatEDF, FormatEMGCSV, FormatAccCSV}

// FormatFor returns the format for a recording written to path: edf for
// a .edf name, csv otherwise.
func FormatFor(path string) string {
	if strings.EqualFold(filepath.Ext(path), ".edf") {
		return FormatEDF
	}
	return FormatCSV
}

// LabelsPath returns where the labels of a recording at path go by
// default: path without its extension, plus .labels.json.
func LabelsPath(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".labels.json"
}

// WriteRecording generates the recording of sc with seed to w in format
// (one of Formats) and returns its labels.
func WriteRecording(sc Scenario, seed int64, format string, w io.Writer) (*Labels, error) {
	switch format {
	case FormatCSV:
		return Generate(sc, seed, w)
	case FormatEDF:
		return GenerateEDF(sc, seed, w)
	case FormatEMGCSV:
		return GenerateCSV(sc, seed, Outputs{EMG: w})
	case FormatAccCSV:
		return GenerateCSV(sc, seed, Outputs{Acc: w})
	}
	return nil, fmt.Errorf("simulate: format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// WriteFiles generates the recording of sc with seed into the file out
// in format and writes its labels to lpath.
func WriteFiles(sc Scenario, seed int64, format, out, lpath string) (*Labels, error) {
	f, err := os.Create(out)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	l, err := WriteRecording(sc, seed, format, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("simulate: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	return l, WriteLabelsFile(lpath, l)
}

// Describe returns one line on what the labels hold: twitches (and how
// many reach the accelerometer), cramps, artefacts, bouts and the
// expected status per replay of the sensors.
func (l *Labels) Describe() string {
	inAcc := 0
	for _, t := range l.Twitches {
		if t.InAcc {
			inAcc++
		}
	}
	exp := l.ExpectedStatus
	if e := l.Expected; e != nil {
		exp = fmt.Sprintf("%s (EMG only %s, acc only %s)", e.Both.Status, e.EMG.Status, e.Acc.Status)
	}
	return fmt.Sprintf("%d twitches (%d in acc), %d cramps, %d artifacts, %d bouts, expected status %s",
		len(l.Twitches), inAcc, len(l.Cramps), len(l.Artifacts), len(l.Bouts), exp)
}

// WriteCatalogue writes a table of the preset scenarios and of the
// families with their variants.
func WriteCatalogue(w io.Writer) error {
	bw := bufio.NewWriter(w)
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMIN\tSITE\tPHASES\tDESCRIPTION")
	for _, sc := range Presets() {
		var ph []string
		for _, p := range sc.Phases {
			s := p.Name
			if p.Active() {
				s += "(" + p.Activity + "," + p.Intensity + ")"
			}
			ph = append(ph, s)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t%s\n", sc.Name, sc.Seconds()/60, sc.Site, strings.Join(ph, " "), sc.Description)
	}
	fmt.Fprintln(tw, "\nFAMILY\tSPLIT\tVARIANTS (seed 1, 2, ...)\tDESCRIPTION")
	for _, f := range Families() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, f.Split, strings.Join(f.Variants(), ", "), f.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}
