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
}

type span struct{ start, end int64 }

// bouts turns a sequence of epochs into exercise bouts: runs of active
// epochs with gaps of at most BoutGap, kept when at least BoutMin of them
// were active, and merged when separated by less than BoutMerge.
type bouts struct {
	cfg     *Config
	run     *boutAcc // open run
	lastAct int64
	pending *boutAcc // valid bout waiting to see whether the next one merges
	done    []span   // recent finished bouts, oldest first
	spare   []*boutAcc
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
	if f.active {
		if bt.run == nil {
			bt.run = bt.newAcc(f.start)
		}
		bt.run.add(f)
		bt.lastAct = f.end
	} else if bt.run != nil && f.end-bt.lastAct > ns(bt.cfg.BoutGap) {
		bt.closeRun(out)
	}
	if bt.pending != nil && f.end-bt.pending.end >= ns(bt.cfg.BoutMerge) &&
		(bt.run == nil || bt.run.start-bt.pending.end >= ns(bt.cfg.BoutMerge)) {
		bt.finish(out)
	}
}

func (bt *bouts) closeRun(out func(*boutAcc)) {
	r := bt.run
	bt.run = nil
	if float64(r.activeN)*bt.cfg.Epoch < bt.cfg.BoutMin {
		bt.spare = append(bt.spare, r)
		return
	}
	if bt.pending != nil {
		if r.start-bt.pending.end < ns(bt.cfg.BoutMerge) {
			bt.pending.merge(r)
			bt.spare = append(bt.spare, r)
			return
		}
		bt.finish(out)
	}
	bt.pending = r
}

func (bt *bouts) finish(out func(*boutAcc)) {
	p := bt.pending
	bt.pending = nil
	bt.done = append(bt.done, span{p.start, p.end})
	if len(bt.done) > 16 {
		bt.done = append(bt.done[:0], bt.done[len(bt.done)-8:]...)
	}
	out(p)
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
	if bt.pending != nil && t >= bt.pending.start {
		if t <= bt.pending.end {
			return pipeline.PhaseActivity, true
		}
		return "", false
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
	if bt.pending != nil && bt.pending.end < t {
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
