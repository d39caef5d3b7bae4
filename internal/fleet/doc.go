// Package fleet measures what live devices cost on one host: the CPU
// time and memory of a process from /proc, the load average, a
// Prometheus /metrics page scraped and its histograms' quantiles, the
// disk use of a directory, and a recording held in memory that many
// device stand-ins play in a loop, each from its own offset.
//
// The fleet benchmark (fleet_test.go, "make fleet-bench") runs N
// "twitchd run" processes, one per stand-in on a pseudo-terminal, into
// one influxd and reports CPU, memory, points, lost samples and latency
// per device.
package fleet
