package csv

import (
	"bufio"
	"errors"
	"io"
)

// MaxLine is the longest line, in bytes without its line ending, that the
// reader accepts. A longer line is reported as malformed and skipped
// without being held in memory.
const MaxLine = 1 << 20

// bufSize is the bufio buffer; lines up to this size are returned without
// copying.
const bufSize = 64 << 10

// lineReader splits a stream into lines ending in LF or CRLF, counting
// them. Lines come from bufio's buffer when they fit and from one reused
// scratch buffer (at most MaxLine plus a buffer's worth) when they do not,
// so memory stays bounded whatever the input.
type lineReader struct {
	br   *bufio.Reader
	long []byte // scratch for lines longer than the bufio buffer
	line int64  // 1-based number of the line last returned
	err  error  // sticky end or failure, returned after the last line
	// pending is a line given back by unread, returned by the next call.
	pending []byte
}

// unread gives the line last returned back, so the next call returns it
// again with the same number. It copies line: bufio's slice would not
// survive the reads in between.
func (lr *lineReader) unread(line []byte) {
	lr.pending = append([]byte{}, line...)
	lr.line--
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, bufSize)}
}

// next returns the next line without its line ending. The slice is valid
// until the following call. tooLong reports a line longer than MaxLine,
// whose content is dropped (line is nil). err is io.EOF after the last
// line, or the read error; a final line without a line ending is returned
// normally first.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	if lr.pending != nil {
		line, lr.pending = lr.pending, nil
		lr.line++
		return line, false, nil
	}
	if lr.err != nil {
		return nil, false, lr.err
	}
	b, err := lr.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		b, tooLong, err = lr.readLong(b)
	}
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		lr.err = io.EOF
		if len(b) == 0 && !tooLong {
			return nil, false, io.EOF
		}
	default:
		lr.err = err
		return nil, false, err
	}
	lr.line++
	if tooLong {
		return nil, true, nil
	}
	return trimEOL(b), false, nil
}

// readLong gathers a line that overflowed the bufio buffer into the
// scratch buffer, or discards it once it passes MaxLine.
func (lr *lineReader) readLong(first []byte) ([]byte, bool, error) {
	lr.long = append(lr.long[:0], first...)
	tooLong := false
	for {
		b, err := lr.br.ReadSlice('\n')
		if !tooLong {
			if len(lr.long)+len(b) > MaxLine+2 { // +2: room for CRLF
				tooLong = true
				lr.long = lr.long[:0]
			} else {
				lr.long = append(lr.long, b...)
			}
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if tooLong {
				return nil, true, err
			}
			if len(trimEOL(lr.long)) > MaxLine {
				return nil, true, err
			}
			return lr.long, false, err
		}
	}
}

// trimEOL drops a trailing LF or CRLF.
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
