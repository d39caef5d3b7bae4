// Package pipeline holds the contracts between twitchd's stages: the sample
// frame and its channels, the events that detectors produce, the Source,
// Processor and Sink interfaces, and the Runner that wires them together
// with context cancellation, bounded buffers and a clean shutdown.
//
// Data flows one way:
//
//	Source (decoder) -> Processor (DSP, detectors, rule) -> Sink (events file, InfluxDB)
//
// Samples travel in Batches whose buffers are recycled, so a stream of any
// length is processed in bounded memory without allocating per sample.
// Events are rare (a few per minute) and travel one by one.
package pipeline
