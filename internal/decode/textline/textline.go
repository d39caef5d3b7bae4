// Package textline reads line-oriented text recordings (OpenBCI GUI,
// OpenSignals, ActiLife CSV exports) for their decoders: lines without
// copying, the number of the line last read for error messages, and the
// skip-and-count or strict handling of bad lines, so that each decoder
// keeps only its format.
package textline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/pipeline"
)

// BufferSize is the read buffer, and so the longest line Next returns.
const BufferSize = 64 << 10

// ErrTooLong is returned by Next for a line longer than BufferSize: the
// line has been read past whole and counted, and reading can go on.
var ErrTooLong = errors.New("line longer than 64 KiB")

// Reader reads the lines of one recording.
type Reader struct {
	// Stats holds the lines skipped by Bad; the decoder counts its frames
	// and lost samples here too, and returns it as its Source's Stats.
	Stats pipeline.SourceStats

	br     *bufio.Reader
	name   string
	strict bool
	line   int64 // number of the line last read
	err    error // sticky: io.EOF or a read error
}

// NewReader reads r, naming it name in errors. With strict set, Bad
// returns the first bad line as an error instead of counting it.
func NewReader(r io.Reader, name string, strict bool) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, BufferSize), name: name, strict: strict}
}

// Line is the 1-based number of the line last read, 0 before the first.
func (l *Reader) Line() int64 { return l.line }

// Peek returns the next n bytes without reading them (see bufio.Reader).
func (l *Reader) Peek(n int) ([]byte, error) { return l.br.Peek(n) }

// Next returns the next line without its line ending ("\n" or "\r\n",
// and any further trailing CR or LF). The slice is valid until the next
// call. A last line without a newline is returned; then io.EOF, every
// time. A read error is wrapped with the name and line number. A line
// longer than BufferSize is skipped whole and reported as ErrTooLong.
func (l *Reader) Next() ([]byte, error) {
	return l.next(0)
}

// NextLong is Next for a line that may be longer than BufferSize (a
// header holding JSON): such a line, up to max bytes, is copied and
// returned; a longer one is skipped and reported as ErrTooLong.
func (l *Reader) NextLong(max int) ([]byte, error) {
	return l.next(max)
}

func (l *Reader) next(max int) ([]byte, error) {
	if l.err != nil {
		return nil, l.err
	}
	b, err := l.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return l.long(b, err, max)
	}
	if err != nil {
		if !errors.Is(err, io.EOF) {
			l.err = fmt.Errorf("%s: line %d: %w", l.name, l.line+1, err)
			return nil, l.err
		}
		l.err = io.EOF
		if len(b) == 0 {
			return nil, io.EOF
		}
	}
	l.line++
	return bytes.TrimRight(b, "\r\n"), nil
}

// long reads the rest of a line that filled the buffer, keeping up to
// max bytes of it.
func (l *Reader) long(b []byte, err error, max int) ([]byte, error) {
	var acc []byte
	if max > 0 {
		acc = append(acc, b...)
	}
	for errors.Is(err, bufio.ErrBufferFull) {
		b, err = l.br.ReadSlice('\n')
		if len(acc) > 0 && len(acc) < max {
			acc = append(acc, b...)
		}
	}
	l.line++
	if err != nil && !errors.Is(err, io.EOF) {
		l.err = fmt.Errorf("%s: line %d: %w", l.name, l.line, err)
	} else if err != nil {
		l.err = io.EOF
	}
	if len(acc) == 0 || len(acc) >= max {
		return nil, ErrTooLong
	}
	return bytes.TrimRight(acc, "\r\n"), nil
}

// Errorf returns a *pipeline.LineError at the line last read.
func (l *Reader) Errorf(format string, args ...any) error {
	return &pipeline.LineError{File: l.name, Line: l.line, Offset: -1, Reason: fmt.Sprintf(format, args...)}
}

// HeaderError returns err, met while reading a header line, as a
// *pipeline.LineError at that line with reason, e.g. "header: line longer
// than 64 KiB" (errors.Is(err, ErrTooLong) still holds). A read error,
// which already names the file and line, and io.EOF are returned as they
// are.
func (l *Reader) HeaderError(reason string, err error) error {
	if !errors.Is(err, ErrTooLong) {
		return err
	}
	return &pipeline.LineError{File: l.name, Line: l.line, Offset: -1, Reason: reason, Err: err}
}

// Bad handles the line last read as malformed for reason: in strict mode
// it returns it as a *pipeline.LineError; otherwise it counts it in Stats
// (keeping the first few as examples) and returns nil.
func (l *Reader) Bad(reason string) error {
	return decode.Skip(&l.Stats, l.strict, &pipeline.LineError{File: l.name, Line: l.line, Offset: -1, Reason: reason})
}

// Fill is the Next of a pipeline.Source reading one sample per line: it
// resets b and fills it with up to its capacity of samples, calling row
// on each line that is neither empty nor starts with comment (0: no
// comment lines). row appends the line's sample to b and returns "", or
// returns why the line is bad; a bad or over-long line goes through Bad.
// Fill returns io.EOF, with b empty, at the end, and ctx's error when it
// is cancelled (checked every 1024 lines).
func (l *Reader) Fill(ctx context.Context, b *pipeline.Batch, comment byte, row func(b *pipeline.Batch, line []byte) string) error {
	b.Reset()
	for n := 0; !b.Full(); n++ {
		if n&1023 == 1023 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, err := l.Next()
		if err != nil {
			if errors.Is(err, ErrTooLong) {
				if e := l.Bad(err.Error()); e != nil {
					return e
				}
				continue
			}
			if b.Len() > 0 && errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if len(line) == 0 || comment != 0 && line[0] == comment {
			continue
		}
		if reason := row(b, line); reason != "" {
			if e := l.Bad(reason); e != nil {
				return e
			}
		}
	}
	return nil
}

// HasBanner reports whether head, the start of a file, begins with banner,
// after a UTF-8 byte-order mark if there is one (editors on Windows add
// it); the text decoders' Sniff functions recognise their files by it.
func HasBanner(head []byte, banner string) bool {
	return bytes.HasPrefix(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), []byte(banner))
}
