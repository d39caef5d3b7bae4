package detect

// Strides are not clockwork: each lasts a few percent more or less than
// the last (about 40 ms of a 1.4 s stride), and a walk's EMG bursts are
// short (50-150 ms, one to three points). The autocorrelation of such a
// train spreads its peak at the stride period over neighbouring lags, and
// its height falls below PeriodicR although nearly every burst has a
// successor one period later. tolerate pools each lag with its two
// neighbours, against the same pooling of lag 0 (1 + 2·r(1)), so a
// peak spread by jitter counts whole, while a train without jitter keeps
// about its height (a wide burst's r(1) is high and pools the same way).

// tolerate replaces r(k), for every k from lag from up to kmax-1, by
// (r(k-1) + r(k) + r(k+1)) / (1 + 2·r(1)). It allocates nothing.
func (p *periodicity) tolerate(from int) {
	kmax := p.kmax()
	if from < 2 || from >= kmax {
		return
	}
	den := max(1, 1+2*p.r[1])
	prev := p.r[from-1]
	for k := from; k < kmax; k++ {
		cur := p.r[k]
		p.r[k] = (prev + cur + p.r[k+1]) / den
		prev = cur
	}
}
