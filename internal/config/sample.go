package config

import (
	"strings"
)

// sampleHeader opens the sample.
const sampleHeader = `# twitchd configuration: every setting of "twitchd run" and "twitchd replay".
# Use it with --config FILE. Flags given on the command line override it, and so do
# the environment's INFLUX_URL, INFLUX_ORG and INFLUX_BUCKET. Every key is shown at
# its default: keep the ones you change. "twitchd config check FILE" checks a file
# (unknown keys, wrong types, values out of range) and names file, line and key.
# The InfluxDB token never goes here: influx.token_file names a file of mode 0600
# that holds it, or set INFLUX_TOKEN.
`

// sectionDocs introduce the sections of the sample.
var sectionDocs = map[string]string{
	"ingest":       "What a run is about and what it writes besides InfluxDB.",
	"influx":       "Where InfluxDB is.",
	"pseudonymise": "Replacing the person's name by a pseudonym everywhere.",
	"spool":        "The on-disk spool of points InfluxDB has not taken yet.",
	"health":       "The /healthz and /metrics endpoints.",
	"run":          `"twitchd run": live collection from a [[device]].`,
	"replay":       `"twitchd replay": decoding recorded files (the format is detected from the content).`,
	"detect": "The detectors' windows and thresholds: the fields of detect.Config in snake case\n" +
		"(EMGOrder: emg_order). Durations are in seconds of recording time. Their comments\n" +
		"(from the code) say why each has its default.",
	"rule": "The persistence rule's thresholds: the fields of rule.Config in snake case\n" +
		"(ACWRLimit: acwr_limit). Durations as \"5m\", \"6h\", \"14d\".",
}

// sampleDevice ends the sample.
const sampleDevice = `
# A serial device for "twitchd run", one [[device]] table per device (the service
# runs one twitchd@NAME per device, NAME being its name). Common keys: name, port,
# baud, protocol, subject, site (these two win over [ingest]); the others are the
# protocol's own settings (gain, rate, counter, [[device.channel]] ...; see
# internal/source/serial/testdata/devices.toml). Prefer a /dev/serial/by-id/ path:
# it names the same adapter whatever USB port it is in.
[[device]]
name = "left-calf"
port = "/dev/serial/by-id/usb-FTDI_FT231X_USB_UART_DM00ABCD-if00-port0"
protocol = "openbci-cyton"
site = "calf_left"
`

// Sample returns a configuration file with every key at its default
// (those of this environment: the spool directory depends on it) and
// its documentation as comments. It parses back to the defaults.
func Sample() string {
	var b strings.Builder
	b.WriteString(sampleHeader)
	def := Defaults()
	section := ""
	group := ""
	for _, k := range allKeys() {
		if k.section != section {
			section, group = k.section, ""
			b.WriteString("\n")
			comment(&b, sectionDocs[section])
			b.WriteString("[" + section + "]\n")
		}
		doc := k.doc
		if k.field != "" {
			if g := groupOf(k); g == group {
				doc = ""
			} else {
				group = g
			}
		}
		if doc != "" {
			comment(&b, doc)
		}
		b.WriteString(k.name + " = " + formatValue(k.kind, k.get(&def)) + "\n")
	}
	b.WriteString(sampleDevice)
	return b.String()
}

// groupOf returns the first field of the group of fields sharing k's
// comment.
func groupOf(k *key) string {
	for _, f := range fieldDocs[k.section+".Config"] {
		if f.Name == k.field {
			return f.Group
		}
	}
	return k.field
}

// comment writes text as comment lines.
func comment(b *strings.Builder, text string) {
	if text == "" {
		return
	}
	for _, l := range strings.Split(text, "\n") {
		b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
	}
}
