package spool

import (
	"errors"
	"fmt"
	"syscall"
)

// DefaultMinFree is how much free space Append leaves on the spool's
// filesystem for the rest of the system (1 MiB).
const DefaultMinFree = 1 << 20

// ErrDiskFull is wrapped by Append's error when its record would leave
// less than MinFree bytes free on the spool's filesystem, or the write
// found the disk full.
var ErrDiskFull = errors.New("spool: disk full")

// free returns the free bytes of the spool's filesystem, ok false when
// they cannot be known.
func (s *Spool) free() (int64, bool) {
	n, err := s.cfg.FreeSpace(s.cfg.Dir)
	return n, err == nil
}

// diskRoomLocked returns an error wrapping ErrDiskFull when a record of
// rec bytes would leave less than MinFree free, logging it once per
// episode.
func (s *Spool) diskRoomLocked(rec int64, n int) error {
	free, ok := s.free()
	if !ok || free-rec >= s.cfg.MinFree {
		s.diskFull = false
		return nil
	}
	return s.diskFullLocked(fmt.Errorf("%d bytes free, %d kept for the system", free, s.cfg.MinFree), n)
}

// diskFullLocked counts n points refused for a full disk (cause says
// why), logs it once per episode and returns an error wrapping ErrDiskFull.
func (s *Spool) diskFullLocked(cause error, n int) error {
	s.stats.Refused += int64(n)
	s.stats.DiskFullRefused += int64(n)
	if !s.diskFull {
		s.diskFull = true
		s.log.Error("spool: disk full: refusing points until there is room (they are counted as lost)",
			"dir", s.cfg.Dir, "points", n, "cause", cause)
	}
	return fmt.Errorf("spool: %d points refused in %s: %w: %w", n, s.cfg.Dir, ErrDiskFull, cause)
}

// isNoSpace reports whether err is the disk being full.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// checkDisk returns an error when the spool's filesystem has less free
// space than the spool may still need: what MaxBytes leaves beyond what
// it holds, plus MinFree. It says so before the disk is full, while the
// spool still takes points.
func (s *Spool) checkDisk() error {
	free, ok := s.free()
	if !ok {
		return nil
	}
	st := s.Stats()
	need := max(s.cfg.MaxBytes-st.PendingBytes, 0) + s.cfg.MinFree
	if free < need {
		return fmt.Errorf("spool: disk nearly full: %s free in %s, the spool may need %s more (free space or lower --spool-max)",
			human(free), s.cfg.Dir, human(need))
	}
	return nil
}

// human writes a byte count with a binary unit.
func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
