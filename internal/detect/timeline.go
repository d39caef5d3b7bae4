package detect

import "math"

// slotNS is the resolution of the shared activity timeline: 100 ms.
const slotNS = int64(100e6)

// slot records what every sensor saw during 100 ms.
type slot struct {
	idx       int64
	emgActive bool     // sustained voluntary or cramp activity on an EMG channel
	accMoving bool     // sustained limb movement
	emgFast   bool     // fast EMG envelope above the burst threshold (cramp continuity)
	emgMid    bool     // fast EMG envelope well above its floor (ShoulderRatio)
	rhythm    bool     // inside rhythmic activity (strides, strokes, repetitions)
	rep       bool     // inside lifting repetitions
	tremor    bool     // inside a tremor (bursts at 4-8 Hz)
	accStir   bool     // the accelerometer moved more than a rhythm's least (AccRhythmMinG)
	bursts    [2]uint8 // bursts (of any length) that started in this slot, per sensor: EMG, accelerometer
	hasGrav   bool
	grav      [3]float64 // gravity estimate (g) at the end of the slot
}

// timeline is a ring of slots covering the last few minutes, shared by the
// detectors so a candidate twitch can be judged by what surrounds it.
type timeline struct {
	slots []slot
}

func newTimeline(seconds float64) *timeline {
	n := int(math.Ceil(seconds * 1e9 / float64(slotNS)))
	return &timeline{slots: make([]slot, n)}
}

func slotOf(t int64) int64 {
	if t < 0 {
		return (t - slotNS + 1) / slotNS
	}
	return t / slotNS
}

// at returns the slot for time t, clearing it if it held an older slot.
func (tl *timeline) at(t int64) *slot {
	i := slotOf(t)
	s := &tl.slots[int(((i%int64(len(tl.slots)))+int64(len(tl.slots)))%int64(len(tl.slots)))]
	if s.idx != i {
		*s = slot{idx: i}
	}
	return s
}

// peek returns the slot for t if the ring still holds it.
func (tl *timeline) peek(t int64) (*slot, bool) {
	i := slotOf(t)
	s := &tl.slots[int(((i%int64(len(tl.slots)))+int64(len(tl.slots)))%int64(len(tl.slots)))]
	return s, s.idx == i
}

// markEMG marks slots from a to b (inclusive) as EMG-active.
func (tl *timeline) markEMG(a, b int64) {
	for t := a; slotOf(t) <= slotOf(b); t += slotNS {
		tl.at(t).emgActive = true
	}
}

// markMoving marks slots from a to b as moving.
func (tl *timeline) markMoving(a, b int64) {
	for t := a; slotOf(t) <= slotOf(b); t += slotNS {
		tl.at(t).accMoving = true
	}
}

// markRhythm marks slots from a to b as rhythmic, and as repetitions
// when rep is set.
func (tl *timeline) markRhythm(a, b int64, rep bool) {
	for t := a; slotOf(t) <= slotOf(b); t += slotNS {
		s := tl.at(t)
		s.rhythm = true
		s.rep = s.rep || rep
	}
}

// stirred reports whether the accelerometer moved in at least n of the
// slots in [a, b].
func (tl *timeline) stirred(a, b int64, n int) bool {
	for t := a; slotOf(t) <= slotOf(b); t += slotNS {
		if s, ok := tl.peek(t); ok && s.accStir {
			if n--; n <= 0 {
				return true
			}
		}
	}
	return false
}

// markTremor marks slots from a to b as tremor.
func (tl *timeline) markTremor(a, b int64) {
	for t := a; slotOf(t) <= slotOf(b); t += slotNS {
		tl.at(t).tremor = true
	}
}

// busy reports whether any slot in [a, b] shows activity, movement,
// rhythm or tremor.
func (tl *timeline) busy(a, b int64) bool {
	for t := a; slotOf(t) <= slotOf(b); t += slotNS {
		if s, ok := tl.peek(t); ok && (s.emgActive || s.accMoving || s.rhythm || s.tremor) {
			return true
		}
	}
	return false
}

// movingOrRhythmic reports whether the slot of t shows sustained limb
// movement or rhythm (false when the ring no longer holds it).
func (tl *timeline) movingOrRhythmic(t int64) bool {
	s, ok := tl.peek(t)
	return ok && (s.accMoving || s.rhythm)
}

// midCount returns how many slots in [a, b] had the EMG envelope well
// above its floor.
func (tl *timeline) midCount(a, b int64) int {
	n := 0
	for t := a; slotOf(t) <= slotOf(b); t += slotNS {
		if s, ok := tl.peek(t); ok && s.emgMid {
			n++
		}
	}
	return n
}

// addBurst counts a burst starting at t on an accelerometer (acc) or an
// EMG channel.
func (tl *timeline) addBurst(t int64, acc bool) {
	i := 0
	if acc {
		i = 1
	}
	if s := tl.at(t); s.bursts[i] < 255 {
		s.bursts[i]++
	}
}

// burstCount returns the bursts that started in [a, b] on the sensor
// that had the most: a twitch seen by both sensors counts once.
func (tl *timeline) burstCount(a, b int64) int {
	var n [2]int
	for t := a; slotOf(t) <= slotOf(b); t += slotNS {
		if s, ok := tl.peek(t); ok {
			n[0] += int(s.bursts[0])
			n[1] += int(s.bursts[1])
		}
	}
	return max(n[0], n[1])
}

// shares says what share of the slots in an interval had each flag.
type shares struct{ moving, fast, rhythm, rep, tremor float64 }

// fractions returns the shares of slots in [a, b] that were moving, had
// the fast EMG envelope up, were rhythmic, repetitions and tremor, among
// the slots the ring still holds (the latest minutes of a longer span).
func (tl *timeline) fractions(a, b int64) shares {
	a = max(a, b-int64(len(tl.slots)-1)*slotNS)
	n := 0
	var c [5]int
	for t := a; slotOf(t) <= slotOf(b); t += slotNS {
		n++
		if s, ok := tl.peek(t); ok {
			for i, f := range [5]bool{s.accMoving, s.emgFast, s.rhythm, s.rep, s.tremor} {
				if f {
					c[i]++
				}
			}
		}
	}
	if n == 0 {
		return shares{}
	}
	f := func(i int) float64 { return float64(c[i]) / float64(n) }
	return shares{moving: f(0), fast: f(1), rhythm: f(2), rep: f(3), tremor: f(4)}
}

// gravity returns the gravity estimate recorded nearest before t.
func (tl *timeline) gravity(t int64) ([3]float64, bool) {
	for k := 0; k < 5; k++ {
		if s, ok := tl.peek(t - int64(k)*slotNS); ok && s.hasGrav {
			return s.grav, true
		}
	}
	return [3]float64{}, false
}
