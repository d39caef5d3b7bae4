package capture

import (
	"math/rand/v2"

	"github.com/twitchd/twitchd/pipeline"
)

// Pick returns what a device stand-in plays from a recording: the
// indexes of its EMG channels, and of the x, y and z axes of its first
// accelerometer (-1 for an axis it lacks).
func Pick(meta pipeline.Meta) (emg []int, acc [3]int) {
	acc = [3]int{-1, -1, -1}
	group := ""
	for i, c := range meta.Channels {
		switch c.Kind {
		case pipeline.KindEMG:
			emg = append(emg, i)
		case pipeline.KindAcc:
			if group == "" {
				group = c.Group
			}
			if c.Group != group {
				continue
			}
			if c.Axis >= 'x' && c.Axis <= 'z' && acc[c.Axis-'x'] < 0 {
				acc[c.Axis-'x'] = i
			}
		}
	}
	return emg, acc
}

// Value returns vals[i], or 0 when i is -1 or the channel has no sample.
func Value(vals []float64, i int) float64 {
	if i < 0 || vals[i] != vals[i] {
		return 0
	}
	return vals[i]
}

// RandomBytes appends 1 to 16 random bytes: garbage on a binary line.
func RandomBytes(dst []byte, rng *rand.Rand) []byte {
	n := 1 + rng.IntN(16)
	for range n {
		dst = append(dst, byte(rng.IntN(256)))
	}
	return dst
}
