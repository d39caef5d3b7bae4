package detect

import (
	"sort"

	"github.com/twitchd/twitchd/pipeline"
)

// epochFeatures is what one closed epoch contributes to bout detection.
type epochFeatures struct {
	start, end int64
	active     bool
	hasAcc     bool
	enmo       float64 // mean ENMO, mg (largest over accelerometers)
	peakDyn    float64 // peak dynamic acceleration, g
	emgRMS     float64 // RMS of band-passed EMG, mV (largest over channels)
	emgPeak    float64 // peak 250 ms RMS, mV
	rep        bool    // lifting repetitions seen in it
}

// boutAcc accumulates one run of active epochs.
type boutAcc struct {
	start, end      int64 // end = end of the last active epoch
	activeN         int
	enmo            []float64
	rmsSum          float64
	peakENMO, peakG float64
	peakRMS         float64
	hasAcc          bool
	rep             bool // lifting repetitions: sets of one session merge across SetRest
}

func (b *boutAcc) add(f epochFeatures) {
	b.end = f.end
	b.activeN++
	b.enmo = append(b.enmo, f.enmo)
	b.rmsSum += f.emgRMS
	b.peakENMO = max(b.peakENMO, f.enmo)
	b.peakG = max(b.peakG, f.peakDyn)
	b.peakRMS = max(b.peakRMS, f.emgPeak)
	b.hasAcc = b.hasAcc || f.hasAcc
	b.rep = b.rep || f.rep
}

func (b *boutAcc) merge(o *boutAcc) {
	b.end = o.end
	b.activeN += o.activeN
	b.enmo = append(b.enmo, o.enmo...)
	b.rmsSum += o.rmsSum
	b.peakENMO = max(b.peakENMO, o.peakENMO)
	b.peakG = max(b.peakG, o.peakG)
	b.peakRMS = max(b.peakRMS, o.peakRMS)
	b.hasAcc = b.hasAcc || o.hasAcc
	b.rep = b.rep || o.rep
}

// long reports whether the run has enough active time to be a bout.
func (b *boutAcc) long(cfg *Config) bool { return float64(b.activeN)*cfg.Epoch >= cfg.BoutMin }

type span struct{ start, end int64 }

// bouts turns a sequence of epochs into exercise bouts: runs of active
// epochs with gaps of at most BoutGap, merged when separated by less than
// BoutMerge, or by at most SetRest when both have lifting repetitions
// (the sets of one session), and kept when at least BoutMin of the merged
// run was active (a short set waits for the next one).
type bouts struct {
	cfg     *Config
	run     *boutAcc // open run
	lastAct int64
	pending *boutAcc // closed run waiting to see whether the next one merges
	done    []span   // recent finished bouts, oldest first
	spare   []*boutAcc
	through int64 // end of the last epoch seen
	// veto, when set, says that a run is not exercise after all (a cramp
	// that made EMG-active epochs).
	veto func(start, end int64) bool
}

func (bt *bouts) newAcc(start int64) *boutAcc {
	var b *boutAcc
	if n := len(bt.spare); n > 0 {
		b, bt.spare = bt.spare[n-1], bt.spare[:n-1]
		enmo := b.enmo[:0]
		*b = boutAcc{enmo: enmo}
	} else {
		b = &boutAcc{}
	}
	b.start = start
	return b
}

// epoch feeds one closed epoch and returns bouts that became final.
func (bt *bouts) epoch(f epochFeatures, out func(*boutAcc)) {
	bt.through = f.end
	if f.active {
		if bt.run == nil {
			bt.run = bt.newAcc(f.start)
		}
		bt.run.add(f)
		bt.lastAct = f.end
	} else if bt.run != nil && f.end-bt.lastAct > ns(bt.cfg.BoutGap) {
		bt.closeRun(out)
	}
	if p := bt.pending; p != nil {
		// A pending run of sets may still be joined by a run that is open
		// now (whose repetitions are not known until it closes).
		reach := bt.mergeGap(p, p)
		if f.end-p.end >= reach && (bt.run == nil || bt.run.start-p.end >= reach) {
			bt.finish(out)
		}
	}
}

// mergeGap returns the longest gap across which runs a and b merge. A set
// whose last repetitions fill less than half an epoch ends an epoch
// early, so sets get two epochs of slack.
func (bt *bouts) mergeGap(a, b *boutAcc) int64 {
	if a.rep && b.rep {
		return ns(max(bt.cfg.SetRest+2*bt.cfg.Epoch, bt.cfg.BoutMerge))
	}
	return ns(bt.cfg.BoutMerge)
}

func (bt *bouts) closeRun(out func(*boutAcc)) {
	r := bt.run
	bt.run = nil
	if !r.long(bt.cfg) && !r.rep {
		bt.spare = append(bt.spare, r)
		return
	}
	if p := bt.pending; p != nil {
		if r.start-p.end < bt.mergeGap(p, r) {
			p.merge(r)
			bt.spare = append(bt.spare, r)
			return
		}
		bt.finish(out)
	}
	bt.pending = r
}

// finish emits the pending run if it is long enough to be a bout.
func (bt *bouts) finish(out func(*boutAcc)) {
	p := bt.pending
	bt.pending = nil
	if p.long(bt.cfg) && (bt.veto == nil || !bt.veto(p.start, p.end)) {
		bt.done = append(bt.done, span{p.start, p.end})
		if len(bt.done) > 16 {
			bt.done = append(bt.done[:0], bt.done[len(bt.done)-8:]...)
		}
		out(p)
	}
	bt.spare = append(bt.spare, p)
}

// end closes everything at the end of the stream.
func (bt *bouts) end(out func(*boutAcc)) {
	if bt.run != nil {
		bt.closeRun(out)
	}
	if bt.pending != nil {
		bt.finish(out)
	}
}

// unsettled returns the earliest time whose bout membership may still
// change, and false when everything up to now is settled.
func (bt *bouts) unsettled() (int64, bool) {
	switch {
	case bt.pending != nil:
		return bt.pending.start, true
	case bt.run != nil:
		return bt.run.start, true
	}
	return 0, false
}

// phase returns the phase of time t and whether it is final.
func (bt *bouts) phase(t int64, postExercise int64) (string, bool) {
	if t >= bt.through {
		return "", false // its epoch is not known yet
	}
	if bt.pending != nil && t >= bt.pending.start {
		if t <= bt.pending.end && bt.pending.long(bt.cfg) && bt.veto == nil {
			return pipeline.PhaseActivity, true
		}
		return "", false // merging, or a veto, may still change it
	}
	if bt.run != nil && t >= bt.run.start {
		return "", false
	}
	lastEnd, found := int64(0), false
	for _, s := range bt.done {
		if t >= s.start && t <= s.end {
			return pipeline.PhaseActivity, true
		}
		if s.end < t {
			lastEnd, found = s.end, true
		}
	}
	if bt.pending != nil && bt.pending.end < t && bt.pending.long(bt.cfg) {
		lastEnd, found = bt.pending.end, true
	}
	if found && t-lastEnd <= postExercise {
		return pipeline.PhasePostExercise, true
	}
	return pipeline.PhaseRest, true
}

// lastEnd returns the end of the latest finished bout before t.
func (bt *bouts) lastEnd(t int64) (int64, bool) {
	var e int64
	ok := false
	for _, s := range bt.done {
		if s.end <= t {
			e, ok = s.end, true
		}
	}
	return e, ok
}

// intensity classifies a bout: with an accelerometer by the median ENMO
// of its active epochs against the cut-points, without by its mean EMG
// activity RMS.
func (cfg *Config) intensity(b *boutAcc) string {
	if b.hasAcc {
		v := append([]float64(nil), b.enmo...)
		sort.Float64s(v)
		m := v[len(v)/2]
		switch {
		case m >= cfg.VigorousMG:
			return pipeline.IntensityVigorous
		case m >= cfg.ModerateMG:
			return pipeline.IntensityModerate
		}
		return pipeline.IntensityLight
	}
	r := b.rmsSum / float64(max(1, b.activeN))
	switch {
	case r >= cfg.EMGVigorousMV:
		return pipeline.IntensityVigorous
	case r >= cfg.EMGModerateMV:
		return pipeline.IntensityModerate
	}
	return pipeline.IntensityLight
}

// epochIntensity classifies one epoch's ENMO.
func (cfg *Config) epochIntensity(enmo float64) string {
	switch {
	case enmo >= cfg.VigorousMG:
		return pipeline.IntensityVigorous
	case enmo >= cfg.ModerateMG:
		return pipeline.IntensityModerate
	case enmo >= cfg.LightMG:
		return pipeline.IntensityLight
	}
	return pipeline.IntensitySedentary
}
