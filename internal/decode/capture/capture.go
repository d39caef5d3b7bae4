// Package capture holds what the byte-stream device decoders (bitalino,
// cyton, ascii) share around their serial.Decoder parsers: the buffer the
// parsers read from, and building the Source for a recorded capture or a
// live port, so that each decoder keeps only its protocol.
package capture

import (
	"io"
	"log/slog"
	"time"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/source/serial"
)

// Open returns a Source that decodes the recorded capture r with dec. A
// capture carries no host clock, so samples are timed from opts.Start,
// or from the Unix epoch when it is zero, advancing by index / rate;
// format names the protocol in Meta.Format.
func Open(r io.Reader, dec serial.Decoder, format string, opts decode.Options) *serial.Stream {
	start := opts.Start
	if start.IsZero() {
		start = time.Unix(0, 0)
	}
	return serial.NewStream(serial.NewFileReader(r), dec, serial.StreamOptions{
		Name: opts.Name, Format: format, Start: start, Strict: opts.Strict,
	})
}

// Live returns a Source that decodes what arrives on conn with dec,
// stamped from the host clock. It sets so.Live and so.Format, and so.Log
// to log when so has none.
func Live(conn serial.Reader, dec serial.Decoder, format string, so serial.StreamOptions, log *slog.Logger) *serial.Stream {
	so.Live, so.Format = true, format
	if so.Log == nil {
		so.Log = log
	}
	return serial.NewStream(conn, dec, so)
}

// Buffer holds the bytes a parser has been fed and not yet consumed.
// Parsers read Buf[R:] and advance R; Base keeps positions meaningful as
// stream byte offsets (Base+i is the offset of Buf[i]) across the
// compactions Feed does.
type Buffer struct {
	Buf  []byte
	R    int   // read position in Buf
	Base int64 // stream offset of Buf[0]
}

// Feed appends b. Once at least half of Buf has been read it first moves
// the unread bytes to the front, so memory stays bounded by the largest
// backlog and each byte is copied O(1) times on average.
func (q *Buffer) Feed(b []byte) {
	if q.R > 0 && q.R >= len(q.Buf)/2 {
		n := copy(q.Buf, q.Buf[q.R:])
		q.Buf = q.Buf[:n]
		q.Base += int64(q.R)
		q.R = 0
	}
	q.Buf = append(q.Buf, b...)
}

// Drop discards every buffered byte (a new connection), keeping offsets
// counting on.
func (q *Buffer) Drop() {
	q.Base += int64(len(q.Buf))
	q.Buf, q.R = q.Buf[:0], 0
}
