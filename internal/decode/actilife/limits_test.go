package actilife

import (
	"errors"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/decode/textline"
	"github.com/twitchd/twitchd/pipeline"
)

func TestSizeLimits(t *testing.T) {
	banner := magic + " GT3X+ ActiLife v6.13.4 Firmware v2.5.0 date format M/d/yyyy at 30 Hz  Filter Normal -----------\n"
	head := banner + "Start Time 11:55:00\nStart Date 12/20/2021\nEpoch Period (hh:mm:ss) 00:00:00\n" + strings.Repeat("-", 50) + "\n"
	cases := []struct {
		name  string
		in    string
		want  string
		line  int64
		isErr error
	}{
		{"header line too long", banner + "Serial Number: " + strings.Repeat("N", textline.BufferSize) + "\n", "header: line longer than 64 KiB", 2, textline.ErrTooLong},
		{"too many header lines", banner + strings.Repeat("Current Memory Address: 0\n", MaxHeaderLines), "no line of dashes within the first 40 lines", 41, nil},
		{"column header too long", head + "Accelerometer X," + strings.Repeat("a", textline.BufferSize) + "\n", "column header: line longer than 64 KiB", 6, textline.ErrTooLong},
		{"too many columns", head + "Timestamp,Accelerometer X,Accelerometer Y,Accelerometer Z" + strings.Repeat(",Lux", MaxColumns-3) + "\n", "1025 columns, more than the 1024", 6, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(strings.NewReader(tc.in), decode.Options{Name: "a.csv"})
			var le *pipeline.LineError
			if !errors.As(err, &le) || le.File != "a.csv" || le.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q at a.csv:%d", err, tc.want, tc.line)
			}
			if tc.isErr != nil && !errors.Is(err, tc.isErr) {
				t.Fatalf("err = %v is not %v", err, tc.isErr)
			}
		})
	}
	// At the column limit the header is accepted.
	in := head + "Timestamp,Accelerometer X,Accelerometer Y,Accelerometer Z" + strings.Repeat(",Lux", MaxColumns-4) + "\n"
	if _, err := New(strings.NewReader(in), decode.Options{Name: "a.csv"}); err != nil {
		t.Fatalf("%d columns: %v", MaxColumns, err)
	}
}
