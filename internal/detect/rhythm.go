package detect

import "math"

// rhythm finds rhythmic voluntary activity in one sensor: strides, pedal
// strokes and lifting repetitions. The sensor's samples are averaged over
// points of RhythmPoint seconds into two signals: an envelope, log(1 +
// power/floor) (bursts stand out from noise whatever their size), and the
// signal whose periodicity is measured: for EMG the envelope itself, for
// an accelerometer the three high-passed axes, signed (the magnitude of a
// swinging limb repeats twice per stride; the vector repeats once). Two
// periodicity windows follow them: a cadence window (CadenceWindow
// seconds of points, periods CadenceMin..CadenceMax) for strides and
// strokes, and a repetition window (RepWindow seconds of points twice as
// long, periods RepMin..RepMax) for lifting.
//
// A window is periodic when its autocorrelation has a prominent peak of
// at least PeriodicR at a period in its range, and its envelope has at
// least PeriodicBursts bursts (runs above the window's mean plus half its
// spread, with power above RhythmActiveRatio times the floor and, for an
// accelerometer, AccRhythmMinG), most of them followed by another one a
// period later. The verdict is about the window's centre point: it is
// rhythmic when the window is periodic and the centre lies within the
// train of bursts (one within 1.5 periods before it or at it, and one
// within 1.5 periods after it or at it), so the rhythm ends with the last
// stride, not half a window later. The verdicts mark the timeline (rhythm,
// and rep for repetitions) half a window late: decided says how far they
// are final.
type rhythm struct {
	cfg     *Config
	tl      *timeline
	dims    int
	vector  bool // the signal is the samples' components, not the envelope
	pointNS int64
	// needStir, for EMG with an accelerometer on the limb, keeps a rhythm
	// only where the limb moved for at least 0.6 s of the 2 s around:
	// strides and strokes move it, a train of twitches (or a heartbeat in
	// the EMG) does not.
	needStir bool
	floorMS  float64 // power of the noise floor
	activeMS float64 // least power of a point in a burst

	started bool
	idx     int64 // index of the point being accumulated
	sum     float64
	sig     [3]float64
	n       int
	group   rhythmPoint // the repetition point being accumulated
	grouped int         // cadence points in it
	cadence window
	rep     window
	decided int64 // verdicts are final for points ending before this time
}

// repPoints is how many cadence points make one repetition point.
const repPoints = 2

// rhythmPoint is one decimated point.
type rhythmPoint struct {
	env float64
	act bool
	sig [3]float64
}

// window is one periodicity analysis with its envelope and the range of
// periods it looks for.
type window struct {
	p         *periodicity
	env       []float64 // envelope per point, same ring positions as p
	act       []bool    // power above the burst minimum, same positions
	inRun     []bool    // scratch, in time order: point inside a burst
	onsets    []int     // scratch: first point of each burst
	kmin      int
	tremorMax int // longest lag of a tremor's period
	minBursts int
	pointNS   int64
	first     int64 // index (in window points) of the oldest point held
	judged    int64 // index of the next point to judge
	isRep     bool
	lag       int  // last periodic lag, 0 when not periodic
	tremor    bool // the period was shorter than the window looks for: tremor
	every     int  // points between evaluations
	jitter    bool // pool each lag with its neighbours (periodicity.tolerate)
	since     int
}

// newRhythm returns the rhythm finder of a sensor whose periodicity is
// measured on its envelope (dims 0) or on a vector of dims components.
func newRhythm(cfg *Config, tl *timeline, dims int) *rhythm {
	r := &rhythm{cfg: cfg, tl: tl, dims: max(1, dims), vector: dims > 0, pointNS: ns(cfg.RhythmPoint)}
	r.cadence = newWindow(cfg.CadenceWindow, cfg.CadenceMin, cfg.CadenceMax, cfg.RhythmPoint, r.dims, false)
	r.rep = newWindow(cfg.RepWindow, cfg.RepMin, cfg.RepMax, repPoints*cfg.RhythmPoint, r.dims, true)
	r.cadence.minBursts = cfg.PeriodicBursts
	// An EMG envelope's stride bursts are short and jitter by a point or
	// so; an accelerometer's swing is smooth.
	r.cadence.jitter = !r.vector
	r.rep.minBursts = cfg.PeriodicBursts
	// Evaluate about every 0.4 s (cadence) and 1 s (repetitions): the
	// verdicts come a little later, at a fraction of the cost.
	r.cadence.every = max(1, int(math.Round(0.4/cfg.RhythmPoint)))
	r.rep.every = max(1, int(math.Round(1/(repPoints*cfg.RhythmPoint))))
	return r
}

func newWindow(seconds, minLag, maxLag, point float64, dims int, rep bool) window {
	n := int(math.Round(seconds / point))
	kmax := int(math.Ceil(maxLag/point)) + 1
	return window{
		p:      newPeriodicity(n, kmax, dims),
		env:    make([]float64, n),
		act:    make([]bool, n),
		inRun:  make([]bool, n),
		onsets: make([]int, 0, n/2+1),
		kmin:   max(2, int(math.Floor(minLag/point))),
		// 4 Hz, the slowest tremor, repeats every 0.25 s.
		tremorMax: int(math.Round(0.25 / point)),
		pointNS:   ns(point),
		isRep:     rep,
	}
}

// setFloor sets the noise floor's power and the least power of a point
// in a burst.
func (r *rhythm) setFloor(floorMS, minMS float64) {
	r.floorMS = floorMS
	r.activeMS = math.Max(r.cfg.RhythmActiveRatio*floorMS, minMS)
}

// add feeds one sample at time t: its power v2 and, for a vector signal,
// its components.
func (r *rhythm) add(t int64, v2 float64, sig *[3]float64) {
	if !r.started {
		r.start(t)
	}
	if t >= (r.idx+1)*r.pointNS {
		i := floorDiv(t, r.pointNS)
		if i-r.idx > int64(len(r.rep.act))*2 {
			// A gap longer than a window: judge what is held, start again.
			r.flush()
			r.cadence.reset()
			r.rep.reset()
			r.start(t)
		} else {
			for r.idx < i {
				r.closePoint()
			}
		}
	}
	r.sum += v2
	if sig != nil {
		for c := 0; c < r.dims; c++ {
			r.sig[c] += sig[c]
		}
	}
	r.n++
}

func (r *rhythm) start(t int64) {
	r.started = true
	r.idx = floorDiv(t, r.pointNS)
	// Start on a whole repetition point, so its points fill whole slots.
	r.idx += (repPoints - r.idx%repPoints) % repPoints
	r.cadence.first, r.cadence.judged = r.idx, r.idx
	r.rep.first, r.rep.judged = r.idx/repPoints, r.idx/repPoints
	r.group, r.grouped = rhythmPoint{}, 0
	r.decided = r.idx * r.pointNS
	r.sum, r.sig, r.n = 0, [3]float64{}, 0
}

// closePoint closes the point being accumulated (empty when no sample
// fell in it) and moves to the next.
func (r *rhythm) closePoint() {
	var pt rhythmPoint
	if r.n > 0 {
		ms := r.sum / float64(r.n)
		if r.floorMS > 0 {
			pt.env = math.Log1p(ms / r.floorMS)
		}
		pt.act = r.activeMS > 0 && ms >= r.activeMS
		if pt.act && r.vector {
			r.tl.at(r.idx * r.pointNS).accStir = true
		}
		for c := 0; c < r.dims; c++ {
			pt.sig[c] = r.sig[c] / float64(r.n)
		}
	}
	if !r.vector {
		pt.sig[0] = pt.env // EMG: the envelope is the signal
	}
	r.cadence.push(pt, r)
	// Repetitions are slow: their window takes the mean of repPoints
	// cadence points (a burst if any of them is).
	g := &r.group
	g.env += pt.env / repPoints
	g.act = g.act || pt.act
	for c := 0; c < r.dims; c++ {
		g.sig[c] += pt.sig[c] / repPoints
	}
	if r.grouped++; r.grouped == repPoints {
		r.rep.push(*g, r)
		*g, r.grouped = rhythmPoint{}, 0
	}
	r.sum, r.sig, r.n = 0, [3]float64{}, 0
	r.idx++
	r.decided = min(r.cadence.judged*r.cadence.pointNS, r.rep.judged*r.rep.pointNS)
}

// flush judges every point still waiting, with the windows as they are:
// at the end of the stream.
func (r *rhythm) flush() {
	if !r.started {
		return
	}
	if r.n > 0 {
		r.closePoint()
	}
	r.cadence.finish(r)
	r.rep.finish(r)
	r.decided = math.MaxInt64
}

func (w *window) reset() {
	w.p = newPeriodicity(w.p.n, w.p.kmax(), w.p.dims)
	clear(w.act)
	clear(w.env)
	w.lag = 0
}

// push adds a point and judges the points the window can now decide.
func (w *window) push(pt rhythmPoint, r *rhythm) {
	if w.p.full() {
		w.first++
	}
	w.env[w.p.pos], w.act[w.p.pos] = pt.env, pt.act
	w.p.push(pt.sig[:w.p.dims])
	if !w.p.full() {
		return
	}
	// The first full window is evaluated at once: points older than it
	// are judged by it.
	if w.since++; w.since < w.every && w.judged >= w.first {
		return
	}
	w.since = 0
	w.evaluate(r.cfg)
	centre := w.first + int64(w.p.n/2)
	for w.judged <= centre {
		w.judge(w.judged, r)
		w.judged++
	}
}

// finish judges the rest of the window's points at the end of the stream;
// a window less than half full judges nothing rhythmic.
func (w *window) finish(r *rhythm) {
	if w.p.count >= w.p.n/2 {
		w.evaluate(r.cfg)
	} else {
		w.lag = 0
	}
	for w.judged < w.first+int64(w.p.count) {
		w.judge(w.judged, r)
		w.judged++
	}
}

// evaluate sets lag to the window's period in points, or 0 when the
// window is not periodic.
func (w *window) evaluate(cfg *Config) {
	w.lag, w.tremor = 0, false
	if !w.findBursts() || len(w.onsets) < w.minBursts {
		return
	}
	w.p.acf()
	// A tremor (4-8 Hz) repeats within a quarter of a second, which no
	// stride or step does; it is neither exercise nor twitching, and its
	// multiples must not pass for a cadence.
	if !w.isRep {
		if k, rk := w.p.bestBelow(w.tremorMax, cfg.PeriodicProminence); k > 0 && rk >= cfg.PeriodicR && w.paired(k) >= w.minBursts-1 {
			w.lag, w.tremor = k, true
			return
		}
	}
	if w.jitter {
		w.p.tolerate(w.kmin)
	}
	k, rk := w.p.peak(cfg.PeriodicProminence)
	if w.isRep && k > 0 && k < w.kmin {
		// A lift has two contractions per repetition (lifting and
		// lowering), so its autocorrelation peaks at half the period too.
		// Long contractions at twice a short period are repetitions;
		// short bursts there are strides.
		if k2, r2 := w.p.bestBelow(2*k+1, cfg.PeriodicProminence); k2 >= max(w.kmin, 2*k-1) && r2 >= cfg.PeriodicR &&
			float64(w.runPoints()) >= repLong*float64(k2*len(w.onsets)) {
			k, rk = k2, r2
		}
	}
	// A shorter period than the window looks for is another rhythm (a
	// stride seen by the repetition window).
	if k < w.kmin || rk < cfg.PeriodicR {
		return
	}
	// A few sparse bursts (twitches) can line up once by chance and give
	// one lag a high correlation; a rhythm repeats: most bursts have a
	// successor one period later.
	if w.paired(k) < w.minBursts-1 {
		return
	}
	// Pooling lags lets chance line up more: a stride train, however it
	// jitters, has a successor for nearly every burst, sparse twitches
	// for one in four or so.
	if w.jitter && 3*w.paired(k) < 2*len(w.onsets) {
		return
	}
	// Repetitions are long contractions (a concentric phase fills a good
	// part of each repetition); twitches a few seconds apart are short.
	if w.isRep && float64(w.runPoints()) < repDuty*float64(k*len(w.onsets)) {
		return
	}
	w.lag = k
}

// repDuty is the least share of its period that a repetition's burst
// fills on average; repLong the share a burst must fill for two bursts a
// period to be a lift's two contractions rather than two strides.
const (
	repDuty = 0.2
	repLong = 0.3
)

// runPoints counts the points inside bursts.
func (w *window) runPoints() int {
	n := 0
	for _, in := range w.inRun[:w.p.count] {
		if in {
			n++
		}
	}
	return n
}

// findBursts marks the bursts of the window's envelope with hysteresis
// (on above mean + sd/2 with enough power, off below the mean) and lists
// their onsets. It returns false when the envelope is flat.
func (w *window) findBursts() bool {
	m := w.p.count
	var s, s2 float64
	for j := 0; j < m; j++ {
		e := w.env[w.p.slot(j)]
		s += e
		s2 += e * e
	}
	mean := s / float64(m)
	sd := math.Sqrt(max(0, s2/float64(m)-mean*mean))
	if sd < 0.15 {
		return false
	}
	on, off := mean+sd/2, mean
	w.onsets = w.onsets[:0]
	in := false
	for j := 0; j < m; j++ {
		k := w.p.slot(j)
		switch e := w.env[k]; {
		case !in && w.act[k] && e >= on:
			in = true
			if len(w.onsets) < cap(w.onsets) {
				w.onsets = append(w.onsets, j)
			}
		case in && e < off:
			in = false
		}
		w.inRun[j] = in
	}
	return true
}

// paired counts the onsets followed by another one lag points later,
// within a quarter of the lag.
func (w *window) paired(lag int) int {
	tol := max(1, lag/4)
	n := 0
	for i, o := range w.onsets {
		for _, q := range w.onsets[i+1:] {
			if d := q - o; d >= lag-tol && d <= lag+tol {
				n++
				break
			} else if d > lag+tol {
				break
			}
		}
	}
	return n
}

// judge decides point i (a window index) and marks the timeline.
func (w *window) judge(i int64, r *rhythm) {
	if w.lag == 0 {
		return
	}
	j := min(max(0, int(i-w.first)), w.p.count-1)
	reach := int(math.Ceil(1.5 * float64(w.lag)))
	left, right := false, false
	for k := max(0, j-reach); k <= j; k++ {
		left = left || w.inRun[k]
	}
	for k := j; k <= min(w.p.count-1, j+reach); k++ {
		right = right || w.inRun[k]
	}
	if !left || !right {
		return
	}
	a := i * w.pointNS
	if w.tremor {
		r.tl.markTremor(a, a+w.pointNS-1)
		return
	}
	// Strides keep the limb moving; a visible twitch jolts it for a
	// slot or two.
	if r.needStir && !r.tl.stirred(a-ns(1), a+w.pointNS+ns(1), 6) {
		return
	}
	r.tl.markRhythm(a, a+w.pointNS-1, w.isRep)
}
