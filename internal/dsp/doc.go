// Package dsp holds the signal-processing building blocks that twitchd's
// detectors use: IIR filters as cascades of second-order sections (Butterworth
// designs matching scipy.signal.butter, notches matching scipy.signal.iirnotch),
// sliding-window envelopes (moving RMS and average), the Teager-Kaiser energy
// operator, a one-pole smoother, robust statistics over a ring of recent values
// (median, MAD, quantiles) and a power-line (mains) interference detector.
//
// Everything here works sample by sample in bounded memory: constructors
// allocate, Step and the other per-sample methods do not. The package does no
// I/O. Bad design parameters (a cutoff above Nyquist, order 0, ...) are
// reported as errors wrapping ErrParam; misuse that is a programming error
// (a window of length 0, a slice of the wrong length) panics with a message
// starting "dsp:".
package dsp

import "errors"

// ErrParam is wrapped by every error this package returns for an invalid
// design parameter, so callers can test for it with errors.Is.
var ErrParam = errors.New("dsp: invalid parameter")
