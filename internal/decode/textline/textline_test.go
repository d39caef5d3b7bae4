package textline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/twitchd/twitchd/pipeline"
)

// read calls next until an error other than ErrTooLong and returns the
// lines, "<too long>" markers, the line numbers after each, and the error.
func read(l *Reader, next func() ([]byte, error)) (got []string, lines []int64, err error) {
	for range 100 {
		b, err := next()
		switch {
		case errors.Is(err, ErrTooLong):
			got = append(got, "<too long>")
		case err != nil:
			return got, lines, err
		default:
			got = append(got, string(b))
		}
		lines = append(lines, l.Line())
	}
	panic("no end")
}

func TestNext(t *testing.T) {
	huge := strings.Repeat("x", BufferSize+10)
	boom := errors.New("boom")
	cases := []struct {
		name  string
		in    io.Reader
		long  int // 0: Next, else NextLong(long)
		want  []string
		lines []int64
		err   error
	}{
		{"LF and CRLF endings, last line unterminated", strings.NewReader("a,b\r\nc\n\nd"), 0,
			[]string{"a,b", "c", "", "d"}, []int64{1, 2, 3, 4}, io.EOF},
		{"empty input", strings.NewReader(""), 0, nil, nil, io.EOF},
		{"over-long line skipped and counted", strings.NewReader("a\n" + huge + "\nb\n"), 0,
			[]string{"a", "<too long>", "b"}, []int64{1, 2, 3}, io.EOF},
		{"over-long last line", strings.NewReader("a\n" + huge), 0,
			[]string{"a", "<too long>"}, []int64{1, 2}, io.EOF},
		{"NextLong keeps a long line", strings.NewReader(huge + "\r\nb\n"), 1 << 20,
			[]string{huge, "b"}, []int64{1, 2}, io.EOF},
		{"NextLong refuses past max", strings.NewReader(huge + "\nb\n"), BufferSize,
			[]string{"<too long>", "b"}, []int64{1, 2}, io.EOF},
		{"read error names the line", io.MultiReader(strings.NewReader("a\nb\n"), iotest.ErrReader(boom)), 0,
			[]string{"a", "b"}, []int64{1, 2}, boom},
		{"read error after an over-long line is not an end", io.MultiReader(strings.NewReader(huge), iotest.ErrReader(boom)), 0,
			[]string{"<too long>"}, []int64{1}, boom},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := NewReader(tc.in, "rec.txt", false)
			next := l.Next
			if tc.long > 0 {
				next = func() ([]byte, error) { return l.NextLong(tc.long) }
			}
			got, lines, err := read(l, next)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if tc.err == boom && !strings.HasPrefix(err.Error(), "rec.txt: line ") {
				t.Errorf("error %q does not name the file and line", err)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("lines %.60q, want %.60q", got, tc.want)
			}
			if len(lines) != len(tc.lines) {
				t.Fatalf("line numbers %v, want %v", lines, tc.lines)
			}
			for i := range lines {
				if lines[i] != tc.lines[i] {
					t.Errorf("line numbers %v, want %v", lines, tc.lines)
				}
			}
			if _, again := next(); again != err {
				t.Errorf("after the end: %v, want %v again", again, err)
			}
		})
	}
}

func TestBad(t *testing.T) {
	for _, strict := range []bool{false, true} {
		l := NewReader(strings.NewReader("h\nbad\n"), "rec.txt", strict)
		l.Next()
		l.Next()
		err := l.Bad("3 fields, want 4")
		var le *pipeline.LineError
		if strict {
			if !errors.As(err, &le) || le.File != "rec.txt" || le.Line != 2 || le.Reason != "3 fields, want 4" {
				t.Errorf("strict: Bad = %v, want a LineError at rec.txt line 2", err)
			}
			continue
		}
		if err != nil || l.Stats.Skipped != 1 || len(l.Stats.Examples) != 1 || l.Stats.Examples[0].Line != 2 {
			t.Errorf("lenient: Bad = %v, stats %+v; want nil and one skip at line 2", err, l.Stats)
		}
	}
	l := NewReader(strings.NewReader("x\n"), "rec.txt", false)
	l.Next()
	var le *pipeline.LineError
	if err := l.Errorf("bad rate %q", "x"); !errors.As(err, &le) || le.Line != 1 || le.Reason != `bad rate "x"` {
		t.Errorf("Errorf = %v", err)
	}
}

// TestFill reads a small file through Fill with a batch of 2 and a row
// function taking the first byte as the value.
func TestFill(t *testing.T) {
	in := "#c\n1\n\nx\n2\n" + strings.Repeat("y", BufferSize+1) + "\n3\n"
	cases := []struct {
		name    string
		comment byte
		strict  bool
		want    string
		skipped int64
		err     string
	}{
		{"comments skipped, bad lines counted", '#', false, "123", 2, ""},
		{"no comment byte: '#' line is bad", 0, false, "123", 3, ""},
		{"strict stops at the first bad line", '#', true, "1", 0, "rec.txt:4: x is not a digit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := NewReader(strings.NewReader(in), "rec.txt", tc.strict)
			row := func(b *pipeline.Batch, line []byte) string {
				if line[0] < '0' || line[0] > '9' {
					return fmt.Sprintf("%c is not a digit", line[0])
				}
				b.Append(l.Line())[0] = float64(line[0] - '0')
				return ""
			}
			b := pipeline.NewBatch(1, 2)
			var got strings.Builder
			var err error
			for range 20 {
				err = l.Fill(context.Background(), b, tc.comment, row)
				for _, f := range b.Frames {
					fmt.Fprint(&got, f.Values[0])
				}
				if err != nil {
					break
				}
			}
			if errors.Is(err, io.EOF) {
				if b.Len() != 0 {
					t.Errorf("io.EOF with %d frames", b.Len())
				}
				err = nil
			}
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || err.Error() != tc.err) {
				t.Errorf("err %v, want %q", err, tc.err)
			}
			if got.String() != tc.want || l.Stats.Skipped != tc.skipped {
				t.Errorf("values %q, %d skipped; want %q, %d", got.String(), l.Stats.Skipped, tc.want, tc.skipped)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := NewReader(strings.NewReader(strings.Repeat("1\n", 3000)), "rec.txt", false)
	b := pipeline.NewBatch(1, 4096)
	if err := l.Fill(ctx, b, 0, func(b *pipeline.Batch, _ []byte) string { b.Append(0); return "" }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v after %d frames", err, b.Len())
	}
}

func TestHasBanner(t *testing.T) {
	cases := []struct {
		name string
		head string
		want bool
	}{
		{"plain", "------------ Data File Created By ActiGraph", true},
		{"after a byte-order mark", "\xef\xbb\xbf------------ Data File", true},
		{"banner cut short", "------", false},
		{"something else", "time,x,y,z", false},
		{"mark alone", "\xef\xbb\xbf", false},
	}
	for _, tc := range cases {
		if got := HasBanner([]byte(tc.head), "------------ Data File"); got != tc.want {
			t.Errorf("%s: HasBanner = %v, want %v", tc.name, got, tc.want)
		}
	}
}
