package detect

import "math"

// periodicity measures how periodic the last n points of a decimated
// signal of dims components are: the correlation r(k) of the window with
// itself k points earlier, for k = 1..kmax, pooled over the components
// (the covariances summed over components, divided by the geometric mean
// of the summed variances, so a vector signal such as a three-axis
// acceleration counts as one). The lagged sums Σ x[i]·x[i-k] are kept up
// to date as points come and go (2·dims·kmax multiply-adds per point, and
// an exact recomputation every n points so rounding cannot accumulate);
// acf adds the window's prefix sums, so a full evaluation costs
// O(dims·(n+kmax)) and allocates nothing.
type periodicity struct {
	dims       int
	n          int
	ring       []float64 // n points of dims components, point-major
	pos, count int       // next point to write, points held
	sums       []float64 // sums[k*dims+c]: Σ x[i][c]·x[i-k][c] over pairs inside the window
	since      int
	c1, c2     []float64 // prefix sums scratch, (n+1)*dims
	r          []float64 // last acf: r[k] for k in 1..kmax (r[0] unused)
}

func newPeriodicity(n, kmax, dims int) *periodicity {
	if kmax >= n || kmax < 3 || dims < 1 {
		panic("detect: periodicity needs 3 <= kmax < n and dims >= 1")
	}
	return &periodicity{
		dims: dims, n: n,
		ring: make([]float64, n*dims), sums: make([]float64, (kmax+1)*dims),
		c1: make([]float64, (n+1)*dims), c2: make([]float64, (n+1)*dims), r: make([]float64, kmax+1),
	}
}

func (p *periodicity) kmax() int { return len(p.r) - 1 }

// full reports whether the window holds n points.
func (p *periodicity) full() bool { return p.count == p.n }

// slot returns the ring index of the j-th point held (0 = oldest).
func (p *periodicity) slot(j int) int {
	if p.count < p.n {
		return j
	}
	if j += p.pos; j >= p.n {
		j -= p.n
	}
	return j
}

// push adds a point of dims components.
func (p *periodicity) push(x []float64) {
	n, d, kmax := p.n, p.dims, p.kmax()
	if p.count == n {
		// The oldest point leaves: remove its pairs with the points after it.
		p.pairs(p.pos, p.ring[p.pos*d:p.pos*d+d], kmax, -1, +1)
	} else {
		p.count++
	}
	copy(p.ring[p.pos*d:p.pos*d+d], x)
	p.pairs(p.pos, x, min(kmax, p.count-1), +1, -1)
	if p.pos++; p.pos == n {
		p.pos = 0
	}
	if p.since++; p.since >= 16*n {
		p.since = 0
		p.recompute()
	}
}

// pairs adds sign times v·x[i+dir·k] to the lagged sum of every lag k in
// 1..kmax, i being the ring position of v. The ring is walked in at most
// two straight runs, so the inner loop has no modulo.
func (p *periodicity) pairs(i int, v []float64, kmax int, sign float64, dir int) {
	n, d := p.n, p.dims
	k := 1
	for k <= kmax {
		j := i + dir*k
		if j >= n {
			j -= n
		} else if j < 0 {
			j += n
		}
		// Lags k.. reach positions j, j+dir, ... until the ring wraps.
		run := kmax - k + 1
		if dir > 0 {
			run = min(run, n-j)
		} else {
			run = min(run, j+1)
		}
		switch d {
		case 1:
			x := sign * v[0]
			for r := 0; r < run; r++ {
				p.sums[k+r] += x * p.ring[j+dir*r]
			}
		case 3:
			x0, x1, x2 := sign*v[0], sign*v[1], sign*v[2]
			ring, sums := p.ring, p.sums
			for r := 0; r < run; r++ {
				o, q := (j+dir*r)*3, (k+r)*3
				sums[q] += x0 * ring[o]
				sums[q+1] += x1 * ring[o+1]
				sums[q+2] += x2 * ring[o+2]
			}
		default:
			for r := 0; r < run; r++ {
				o := p.ring[(j+dir*r)*d : (j+dir*r)*d+d]
				s := p.sums[(k+r)*d : (k+r)*d+d]
				for c := range s {
					s[c] += sign * v[c] * o[c]
				}
			}
		}
		k += run
	}
}

// recompute sets the lagged sums from the window exactly.
func (p *periodicity) recompute() {
	d := p.dims
	clear(p.sums)
	for k := 1; k <= p.kmax(); k++ {
		for j := k; j < p.count; j++ {
			a, b := p.ring[p.slot(j)*d:], p.ring[p.slot(j-k)*d:]
			for c := 0; c < d; c++ {
				p.sums[k*d+c] += a[c] * b[c]
			}
		}
	}
}

// acf computes r(k) for k = 1..kmax over the window: the correlation
// between the points k..m-1 and 0..m-1-k (m points held), pooled over
// the components. r(k) is 0 where either part is constant.
func (p *periodicity) acf() {
	m, d := p.count, p.dims
	// The points in time order are ring[start:] then ring[:start].
	start := 0
	if m == p.n {
		start = p.pos
	}
	j := 0
	for _, seg := range [2][]float64{p.ring[start*d : m*d], p.ring[:start*d]} {
		for i := 0; i < len(seg); i += d {
			for c := 0; c < d; c++ {
				x := seg[i+c]
				p.c1[(j+1)*d+c] = p.c1[j*d+c] + x
				p.c2[(j+1)*d+c] = p.c2[j*d+c] + x*x
			}
			j++
		}
	}
	for k := 1; k <= p.kmax(); k++ {
		p.r[k] = 0
		q := float64(m - k)
		if q < 2 {
			continue
		}
		var cov, va, vb float64
		for c := 0; c < d; c++ {
			a, a2 := p.c1[m*d+c]-p.c1[k*d+c], p.c2[m*d+c]-p.c2[k*d+c] // later part
			b, b2 := p.c1[(m-k)*d+c], p.c2[(m-k)*d+c]                 // earlier part
			va += a2/q - (a/q)*(a/q)
			vb += b2/q - (b/q)*(b/q)
			cov += p.sums[k*d+c]/q - (a/q)*(b/q)
		}
		if va <= 1e-12 || vb <= 1e-12 {
			continue
		}
		p.r[k] = cov / math.Sqrt(va*vb)
	}
}

// peak finds the period in the last acf: among the lags 2..kmax-1 that
// are local maxima of r and stand at least prominence above the lowest r
// at a shorter lag (a slowly varying signal has a high r at every short
// lag and no dip; a periodic one dips between its cycles), the smallest
// one whose r reaches 0.9 of the best such maximum (a period's multiples
// peak too). It returns the lag and its r, or 0, 0 when no lag qualifies.
func (p *periodicity) peak(prominence float64) (lag int, r float64) {
	best := math.Inf(-1)
	p.eachPeak(prominence, func(k int) bool {
		best = math.Max(best, p.r[k])
		return true
	})
	if math.IsInf(best, -1) {
		return 0, 0
	}
	p.eachPeak(prominence, func(k int) bool {
		if p.r[k] >= 0.9*best {
			lag, r = k, p.r[k]
			return false
		}
		return true
	})
	return lag, r
}

// bestBelow returns the highest qualifying peak (as for peak) at a lag
// of at most kmax, or 0, 0.
func (p *periodicity) bestBelow(kmax int, prominence float64) (lag int, r float64) {
	p.eachPeak(prominence, func(k int) bool {
		if k > kmax {
			return false
		}
		if lag == 0 || p.r[k] > r {
			lag, r = k, p.r[k]
		}
		return true
	})
	return lag, r
}

// eachPeak calls f with every qualifying peak lag, shortest first, until f
// returns false.
func (p *periodicity) eachPeak(prominence float64, f func(k int) bool) {
	lowest := p.r[1]
	for k := 2; k < len(p.r)-1; k++ {
		lowest = math.Min(lowest, p.r[k])
		if p.isPeak(k) && p.r[k]-lowest >= prominence && !f(k) {
			return
		}
	}
}

func (p *periodicity) isPeak(k int) bool { return p.r[k] >= p.r[k-1] && p.r[k] >= p.r[k+1] }
