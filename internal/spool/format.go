package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// The on-disk format. A segment starts with an 8-byte magic whose last
// byte is the format version ("TWSPOOL1", "TWSPOOL2"); its records
// follow, in the layout of that version:
//
//	version 1: uint32 length | uint32 CRC-32C(payload) | payload
//	version 2: uint32 length | uint32 CRC-32C(bytes 8-23 and payload) |
//	           uint32 points | uint32 reserved (0) | int64 spooled at (Unix ns) | payload
//
// All integers are little-endian; length is the payload's, the payload
// one batch of '\n'-terminated lines of line protocol. Version 2 adds the
// point count and the time the record was spooled (so the spool can say
// how old its oldest point is). New segments are written in Version;
// segments of every older version are read and sent as they are, so a
// spool left by an earlier release is sent by a later one. A segment of
// a version newer than Version is refused by Open (ErrNewerFormat)
// without being touched.
const (
	// Version is the format version new segments are written in.
	Version = 2
	// MaxRecord is the largest payload a record may hold (64 MiB); a
	// header claiming more is taken as corruption.
	MaxRecord = 64 << 20

	magicPrefix = "TWSPOOL"
	magicLen    = len(magicPrefix) + 1
	headerV1    = 8
	headerLen   = 24 // of Version
)

// ErrNewerFormat is wrapped by Open's error for a segment written in a
// format version newer than this twitchd reads (by a newer release): the
// spool is left as it is for that release to send.
var ErrNewerFormat = errors.New("spool: segment written by a newer twitchd")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// magicOf returns the magic of format version v.
func magicOf(v int) []byte { return append([]byte(magicPrefix), byte('0'+v)) }

// recordHeader fills hdr (headerLen bytes) for a Version record of
// payload holding points lines, spooled at at.
func recordHeader(hdr *[headerLen]byte, payload []byte, points int, at time.Time) {
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(hdr[8:12], uint32(points))
	binary.LittleEndian.PutUint32(hdr[12:16], 0)
	binary.LittleEndian.PutUint64(hdr[16:24], uint64(at.UnixNano()))
	sum := crc32.Update(crc32.Checksum(hdr[8:24], castagnoli), castagnoli, payload)
	binary.LittleEndian.PutUint32(hdr[4:8], sum)
}

// segmentInfo is what scan learnt about a segment.
type segmentInfo struct {
	// version of the segment's format; 0 for an empty file.
	version int
	// good is the offset just past the last whole record; points and
	// records count what lies before it.
	good, points, records int64
	// first is when the first record was spooled (Unix ns); 0 when
	// unknown (version 1) or there is none.
	first int64
}

// errTorn marks the end of the readable part of a segment.
var errTorn = errors.New("torn record")

// scan reads the records of a segment from its start and calls fn with
// each payload (valid only during the call). It returns what it learnt
// and an error wrapping errTorn (with its offset) when the segment does
// not end after its last whole record, ErrNewerFormat for a version it
// does not know, or fn's error. An empty file or one holding only the
// magic is fine.
func scan(r io.Reader, fn func(payload []byte) error) (info segmentInfo, err error) {
	m := make([]byte, magicLen)
	n, err := io.ReadFull(r, m)
	if n == 0 && err == io.EOF {
		return info, nil
	}
	if err != nil || string(m[:len(magicPrefix)]) != magicPrefix || m[magicLen-1] < '1' || m[magicLen-1] > '9' {
		return info, fmt.Errorf("offset 0: bad segment magic: %w", errTorn)
	}
	info.version = int(m[magicLen-1] - '0')
	hlen := headerLen
	switch {
	case info.version == 1:
		hlen = headerV1
	case info.version > Version:
		return info, fmt.Errorf("format version %d (this twitchd reads 1 to %d): %w", info.version, Version, ErrNewerFormat)
	}
	info.good = int64(magicLen)
	hdr := make([]byte, hlen)
	var buf []byte
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			if err == io.EOF {
				return info, nil
			}
			return info, fmt.Errorf("offset %d: short record header: %w", info.good, errTorn)
		}
		size := binary.LittleEndian.Uint32(hdr[0:4])
		sum := binary.LittleEndian.Uint32(hdr[4:8])
		if size == 0 || size > MaxRecord {
			return info, fmt.Errorf("offset %d: record length %d out of range: %w", info.good, size, errTorn)
		}
		if cap(buf) < int(size) {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return info, fmt.Errorf("offset %d: record of %d bytes cut short: %w", info.good, size, errTorn)
		}
		got := crc32.Checksum(buf, castagnoli)
		if hlen > headerV1 {
			got = crc32.Update(crc32.Checksum(hdr[8:hlen], castagnoli), castagnoli, buf)
		}
		if got != sum {
			return info, fmt.Errorf("offset %d: record checksum mismatch: %w", info.good, errTorn)
		}
		if err := fn(buf); err != nil {
			return info, err
		}
		points := int64(countLines(buf))
		if hlen > headerV1 {
			points = int64(binary.LittleEndian.Uint32(hdr[8:12]))
			if info.records == 0 {
				info.first = int64(binary.LittleEndian.Uint64(hdr[16:24]))
			}
		}
		info.good += int64(hlen) + int64(size)
		info.points += points
		info.records++
	}
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
