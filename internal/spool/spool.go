// Package spool keeps InfluxDB line protocol on disk while the server
// cannot take it, and gives it back in order once it can.
//
// A spool is a directory (mode 0700) of append-only segment files (mode
// 0600) named by a sequence number, oldest first. A segment starts with an
// 8-byte magic that carries the format version, then holds records, each
// one batch of '\n'-terminated lines with its length, a CRC-32C and (from
// version 2) its point count and the time it was spooled (format.go has
// the layout). Every Append writes one record and fsyncs the segment
// before it returns, so a record that Append acknowledged survives a
// crash of the process or the machine. A record torn by a crash (short
// header, short payload or a checksum that does not match) is detected
// when the spool is opened: the segment is truncated at the last whole
// record and the dropped records and bytes are counted in Stats.
// Segments of an earlier format version are read and sent as they are;
// one of a newer version makes Open fail without touching it.
//
// The spool is bounded by MaxBytes (headers included). When a record
// would not fit, Append refuses it with ErrFull: new points are dropped,
// old ones are never overwritten. It is bounded by its disk too: a record
// that would leave less than MinFree free on the filesystem, or whose
// write finds the disk full, is refused with ErrDiskFull (one log line
// per episode), and Check reports the disk as nearly full as soon as it
// has less room than MaxBytes still allows. The segment being drained does not
// count against the bound while it is read back, so points the drainer
// sends and the sink hands back (the server failed again) always find
// room; the disk may therefore hold up to MaxBytes plus one segment.
//
// A Drainer reads sealed segments oldest first, hands every record to a
// Target (the InfluxDB sink's WriteLines), waits for the Target's Flush
// and only then deletes the segment. A crash between the two re-sends
// the segment on the next start; InfluxDB overwrites a point with the
// same series and time, so that costs nothing but the request.
package spool

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultMaxBytes     = 256 << 20 // 256 MiB
	DefaultSegmentBytes = 4 << 20   // 4 MiB
)

const segSuffix = ".seg"

// ErrFull is returned by Append when the record would take the spool past
// its MaxBytes.
var ErrFull = errors.New("spool: full")

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("spool: closed")

// Config configures a Spool. A zero field takes its default.
type Config struct {
	// Dir holds the segments; it is created with mode 0700 if missing.
	Dir string
	// MaxBytes bounds the bytes on disk, headers included (default 256 MiB).
	MaxBytes int64
	// SegmentBytes is the size at which a segment is sealed and a new one
	// begun (default 4 MiB, at most MaxBytes/4).
	SegmentBytes int64
	// MinFree is how many bytes Append leaves free on the spool's
	// filesystem (default DefaultMinFree): a record that would leave less
	// is refused (ErrDiskFull), as is one whose write finds the disk full.
	MinFree int64
	// FreeSpace returns the free bytes of the filesystem holding dir
	// (default: statfs where there is one); tests may stand in for it.
	FreeSpace func(dir string) (int64, error)
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Stats counts what a Spool did since Open.
type Stats struct {
	// Records and Points appended, and the Bytes they took.
	Records, Points, Bytes int64
	// Refused counts the points Append refused because the spool was
	// full, closed or the disk failed; DiskFullRefused those of them
	// refused because the disk was (nearly) full.
	Refused, DiskFullRefused int64
	// Resent counts the points a Drainer read back and handed on, and
	// Removed the segments it deleted afterwards.
	Resent, Removed int64
	// TornTails and TornBytes count the segment tails Open dropped
	// because a record there was torn by a crash or corrupt, and their
	// bytes (at least one record each).
	TornTails, TornBytes int64
	// Pending is the number of points on disk now (known exactly only for
	// what this process appended or counted when opening), PendingBytes
	// the bytes, and Segments the segment files.
	Pending, PendingBytes int64
	Segments              int
	// Oldest is when the oldest record waiting was spooled; zero when the
	// spool is empty. For a segment of format version 1, which does not
	// record it, the segment file's modification time stands in.
	Oldest time.Time
}

// Spool is an on-disk FIFO of line-protocol batches. Its methods are safe
// for concurrent use.
type Spool struct {
	cfg  Config
	log  *slog.Logger
	lock *os.File

	mu       sync.Mutex
	segs     []*segment // oldest first; the last one is active
	active   *os.File
	total    int64 // bytes of every segment
	draining int64 // bytes of the segment a Drainer reads, not counted against MaxBytes
	next     uint64
	closed   bool
	diskFull bool // the last Append was refused for a full disk
	stats    Stats
	appended chan struct{} // closed and replaced on every Append
}

// segment is one file of the spool.
type segment struct {
	seq    uint64
	path   string
	size   int64
	points int64
	first  int64 // when its first record was spooled, Unix ns; 0: none yet
}

// Open opens the spool in cfg.Dir, creating it if needed, checks every
// segment and truncates torn tails. Only one process may hold a spool
// directory open: a second Open fails while the first holds it.
func Open(cfg Config) (*Spool, error) {
	if cfg.Dir == "" {
		return nil, errors.New("spool: no directory")
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.SegmentBytes <= 0 {
		cfg.SegmentBytes = DefaultSegmentBytes
	}
	cfg.SegmentBytes = max(min(cfg.SegmentBytes, cfg.MaxBytes/4), 4096)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MinFree <= 0 {
		cfg.MinFree = DefaultMinFree
	}
	if cfg.FreeSpace == nil {
		cfg.FreeSpace = freeSpace
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := os.Chmod(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	s := &Spool{cfg: cfg, log: cfg.Logger, lock: lock, appended: make(chan struct{})}
	if err := s.load(); err != nil {
		lock.Close()
		return nil, err
	}
	return s, nil
}

// load scans the directory, checks every segment and opens a new active one.
func (s *Spool) load() error {
	ents, err := os.ReadDir(s.cfg.Dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	var seqs []uint64
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, segSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, segSuffix), 10, 64)
		if err != nil {
			continue
		}
		seqs = append(seqs, seq)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, seq := range seqs {
		seg := &segment{seq: seq, path: s.segPath(seq)}
		if err := s.check(seg); err != nil {
			return err
		}
		if seg.size <= int64(magicLen) {
			os.Remove(seg.path)
			continue
		}
		s.segs = append(s.segs, seg)
		s.total += seg.size
		s.stats.Pending += seg.points
		s.next = seq + 1
	}
	if s.stats.TornTails > 0 {
		s.log.Warn("spool: dropped torn records left by a crash", "tails", s.stats.TornTails, "bytes", s.stats.TornBytes, "dir", s.cfg.Dir)
	}
	return s.rotateLocked()
}

func (s *Spool) segPath(seq uint64) string {
	return filepath.Join(s.cfg.Dir, fmt.Sprintf("%016d%s", seq, segSuffix))
}

// check reads seg, counts its points and truncates it after the last
// whole record. A segment of a newer format version is an error, and is
// left as it is.
func (s *Spool) check(seg *segment) error {
	f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	info, err := scan(f, func([]byte) error { return nil })
	if errors.Is(err, ErrNewerFormat) {
		return fmt.Errorf("spool: %s: %w (use that twitchd to send it, or move the directory away)", seg.path, err)
	}
	if err != nil && !errors.Is(err, errTorn) {
		return fmt.Errorf("spool: %s: %w", seg.path, err)
	}
	if good := info.good; good < fi.Size() {
		s.stats.TornBytes += fi.Size() - good
		s.stats.TornTails++
		s.log.Warn("spool: torn segment tail dropped", "file", seg.path, "offset", good, "bytes", fi.Size()-good, "err", err)
		if err := f.Truncate(good); err != nil {
			return fmt.Errorf("spool: truncate %s: %w", seg.path, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
	}
	seg.size, seg.points, seg.first = info.good, info.points, info.first
	if info.records > 0 && seg.first == 0 {
		seg.first = fi.ModTime().UnixNano() // version 1: no record says
	}
	if info.records > 0 && info.version < Version {
		s.log.Info("spool: segment of an earlier format will be sent", "file", seg.path, "version", info.version, "points", info.points)
	}
	return nil
}

// rotateLocked seals the active segment and starts a new one.
func (s *Spool) rotateLocked() error {
	if s.active != nil {
		if err := s.active.Close(); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		s.active = nil
	}
	seq := s.next
	s.next++
	path := s.segPath(seq)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if _, err := f.Write(magicOf(Version)); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("spool: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("spool: %w", err)
	}
	syncDir(s.cfg.Dir)
	s.active = f
	s.segs = append(s.segs, &segment{seq: seq, path: path, size: int64(magicLen)})
	s.total += int64(magicLen)
	return nil
}

// Append writes lines (n of them, each ending in '\n') as one record and
// fsyncs it. It returns ErrFull, wrapped, when the record does not fit in
// MaxBytes, and the disk's error when the write fails (the segment is cut
// back to its last whole record). It is an influx.Overflow's work: the
// caller counts the points as spooled only when Append returns nil.
func (s *Spool) Append(lines []byte, n int) error {
	if len(lines) == 0 {
		return nil
	}
	if len(lines) > MaxRecord {
		s.refuse(n)
		return fmt.Errorf("spool: record of %d bytes exceeds %d", len(lines), MaxRecord)
	}
	rec := int64(headerLen + len(lines))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.stats.Refused += int64(n)
		return ErrClosed
	}
	if s.total-s.draining+rec > s.cfg.MaxBytes {
		s.stats.Refused += int64(n)
		return fmt.Errorf("spool: %d points (%d bytes) refused, %d of %d bytes used: %w", n, rec, s.total, s.cfg.MaxBytes, ErrFull)
	}
	if err := s.diskRoomLocked(rec, n); err != nil {
		return err
	}
	cur := s.segs[len(s.segs)-1]
	if cur.size > int64(magicLen) && cur.size+rec > s.cfg.SegmentBytes {
		if err := s.rotateLocked(); err != nil {
			if isNoSpace(err) {
				return s.diskFullLocked(err, n)
			}
			s.stats.Refused += int64(n)
			return err
		}
		cur = s.segs[len(s.segs)-1]
	}
	now := time.Now()
	var hdr [headerLen]byte
	recordHeader(&hdr, lines, n, now)
	_, err := s.active.Write(hdr[:])
	if err == nil {
		_, err = s.active.Write(lines)
	}
	if err == nil {
		err = s.active.Sync()
	}
	if err != nil {
		// Cut the partial record so that later ones stay readable.
		_ = s.active.Truncate(cur.size)
		if isNoSpace(err) {
			return s.diskFullLocked(fmt.Errorf("write %s: %w", cur.path, err), n)
		}
		s.stats.Refused += int64(n)
		return fmt.Errorf("spool: write %s: %w", cur.path, err)
	}
	s.diskFull = false
	if cur.first == 0 {
		cur.first = now.UnixNano()
	}
	cur.size += rec
	cur.points += int64(n)
	s.total += rec
	s.stats.Records++
	s.stats.Points += int64(n)
	s.stats.Bytes += rec
	s.stats.Pending += int64(n)
	close(s.appended)
	s.appended = make(chan struct{})
	return nil
}

func (s *Spool) refuse(n int) {
	s.mu.Lock()
	s.stats.Refused += int64(n)
	s.mu.Unlock()
}

// Stats returns the counts so far.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.PendingBytes = s.total
	st.Segments = len(s.segs)
	for _, seg := range s.segs {
		if seg.first != 0 {
			st.Oldest = time.Unix(0, seg.first)
			break
		}
	}
	return st
}

// Dir returns the spool's directory.
func (s *Spool) Dir() string { return s.cfg.Dir }

// Empty reports whether the spool holds no record.
func (s *Spool) Empty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.emptyLocked()
}

func (s *Spool) emptyLocked() bool {
	for _, seg := range s.segs {
		if seg.size > int64(magicLen) {
			return false
		}
	}
	return true
}

// oldest returns the oldest segment holding records, sealing the active
// one first if it is that segment, and marks it as being drained. It
// returns nil when the spool is empty.
func (s *Spool) oldest() (*segment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	for len(s.segs) > 0 {
		seg := s.segs[0]
		if seg.size > int64(magicLen) {
			if len(s.segs) == 1 {
				if err := s.rotateLocked(); err != nil {
					return nil, err
				}
			}
			s.draining = seg.size
			return seg, nil
		}
		if len(s.segs) == 1 {
			return nil, nil // only the empty active segment
		}
		s.removeLocked(seg)
	}
	return nil, nil
}

// done ends the drain of seg; with remove it deletes the segment.
func (s *Spool) done(seg *segment, remove bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draining = 0
	if !remove {
		return nil
	}
	s.stats.Removed++
	s.stats.Resent += seg.points
	s.stats.Pending -= seg.points
	return s.removeLocked(seg)
}

func (s *Spool) removeLocked(seg *segment) error {
	for i, x := range s.segs {
		if x == seg {
			s.segs = append(s.segs[:i], s.segs[i+1:]...)
			break
		}
	}
	s.total -= seg.size
	if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	syncDir(s.cfg.Dir)
	return nil
}

// appendedSince returns a channel closed at the next Append.
func (s *Spool) appendedSince() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appended
}

// Close closes the active segment and releases the directory; empty
// segments are removed. Append returns ErrClosed afterwards.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.active != nil {
		err = s.active.Close()
		s.active = nil
	}
	for _, seg := range append([]*segment(nil), s.segs...) {
		if seg.size <= int64(magicLen) {
			_ = s.removeLocked(seg)
		}
	}
	if s.lock != nil {
		s.lock.Close()
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// syncDir fsyncs a directory so that created and removed files persist.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// ErrLocked is wrapped by Open's error when another process holds the
// spool directory.
var ErrLocked = errors.New("spool: directory locked")
