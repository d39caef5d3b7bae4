// Package textline reads line-oriented text recordings (OpenBCI GUI,
// OpenSignals, ActiLife CSV exports) for their decoders: lines without
// copying, the number of the line last read for error messages, and the
// skip-and-count or strict handling of bad lines, so that each decoder
// keeps only its format.
package textline

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

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

// Bad handles the line last read as malformed for reason: in strict mode
// it returns it as a *pipeline.LineError; otherwise it counts it in Stats
// (keeping the first few as examples) and returns nil.
func (l *Reader) Bad(reason string) error {
	le := &pipeline.LineError{File: l.name, Line: l.line, Offset: -1, Reason: reason}
	if l.strict {
		return le
	}
	l.Stats.Skip(le)
	return nil
}
