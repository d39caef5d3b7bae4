package simulate

import (
	"bytes"
	"strings"
	"testing"
)

func TestFormatAndLabelsPath(t *testing.T) {
	for _, c := range []struct{ out, format, labels string }{
		{"a/b.csv", FormatCSV, "a/b.labels.json"},
		{"a/b.EDF", FormatEDF, "a/b.labels.json"},
		{"noext", FormatCSV, "noext.labels.json"},
	} {
		if f := FormatFor(c.out); f != c.format {
			t.Errorf("FormatFor(%q) = %q, want %q", c.out, f, c.format)
		}
		if l := LabelsPath(c.out); l != c.labels {
			t.Errorf("LabelsPath(%q) = %q, want %q", c.out, l, c.labels)
		}
	}
}

// TestWriteRecordingFormats: each format writes what it says (EDF's
// header, the one-sensor CSVs' columns) and an unknown one is refused.
func TestWriteRecordingFormats(t *testing.T) {
	sc, err := Preset("bundled-calf")
	if err != nil {
		t.Fatal(err)
	}
	sc = sc.Scaled(0.2)
	for _, c := range []struct {
		format, prefix, notIn string
	}{
		{FormatEDF, "0       ", ""},
		{FormatEMGCSV, "", "acc"},
		{FormatAccCSV, "", "emg"},
	} {
		var b bytes.Buffer
		l, err := WriteRecording(sc, 1, c.format, &b)
		if err != nil || l == nil {
			t.Fatalf("%s: %v", c.format, err)
		}
		head := firstDataLine(b.String())
		if !strings.HasPrefix(head, c.prefix) || (c.notIn != "" && strings.Contains(strings.ToLower(head), c.notIn)) {
			t.Errorf("%s: first line %.80q", c.format, head)
		}
	}
	if _, err := WriteRecording(sc, 1, "xls", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `format "xls"`) {
		t.Errorf("unknown format: %v", err)
	}
}

// firstDataLine returns the first line that is not a # comment.
func firstDataLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "#") {
			return line
		}
	}
	return ""
}
