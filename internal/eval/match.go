package eval

import "time"

// Interval is a span of recording time in Unix ns, both ends included.
type Interval struct{ Start, End int64 }

// Match pairs true intervals with detected ones one to one, exactly as
// Score matches twitches (see the package documentation): tol extends
// each truth on both sides, and the matching is maximal, the better
// fitting pairs first. It returns the pairs (truth index, detection
// index) in truth order and the indices of the unmatched detections in
// order. For scoring detections against truths Score does not know
// about, such as twitches injected into real recordings.
func Match(truth, det []Interval, tol time.Duration) (pairs [][2]int, unmatched []int) {
	ts := make([]span, len(truth))
	for i, t := range truth {
		ts[i] = span{t.Start, t.End}
	}
	ds := make([]span, len(det))
	for i, d := range det {
		ds[i] = span{d.Start, d.End}
	}
	return match(ts, ds, int64(tol))
}
