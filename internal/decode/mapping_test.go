package decode

import (
	"math"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/pipeline"
)

// TestParseMapping covers the --map forms: a unit, a linear conversion
// of raw counts, the makers' transfer functions, and the errors.
func TestParseMapping(t *testing.T) {
	cases := []struct {
		spec string
		want Mapping
		a, b float64 // raw·a + b in the canonical unit
	}{
		{"emg:uV", Mapping{Kind: pipeline.KindEMG, Unit: "uV"}, 1e-3, 0},
		{"acc", Mapping{Kind: pipeline.KindAcc, Unit: "g"}, 1, 0},
		{"emg:uV,scale=10", Mapping{Kind: pipeline.KindEMG, Unit: "uV", Scale: 10}, 0.01, 0},
		{"acc:mg, offset=-1000 ,scale=3/4", Mapping{Kind: pipeline.KindAcc, Unit: "mg", Scale: 0.75, Offset: -1000}, 0.75e-3, -1},
		{"other:adc,scale=2", Mapping{Kind: pipeline.KindOther, Unit: "adc", Scale: 2}, 2, 0},
		{"emg:plux16", Mapping{Kind: pipeline.KindEMG, Unit: "mV", Scale: 3.0 / 65536, Offset: -1.5, Transfer: "plux16"}, 3.0 / 65536, -1.5},
		{"emg:PLUX12", Mapping{Kind: pipeline.KindEMG, Unit: "mV", Scale: 3.0 / 4096, Offset: -1.5, Transfer: "plux12"}, 3.0 / 4096, -1.5},
		{"emg:bitalino10", Mapping{Kind: pipeline.KindEMG, Unit: "mV", Scale: 3.3 / 1009 * 1000 / 1024, Offset: -0.5 * 3.3 / 1009 * 1000, Transfer: "bitalino10"},
			3.3 / 1009 * 1000 / 1024, -0.5 * 3.3 / 1009 * 1000},
	}
	for _, tc := range cases {
		m, err := ParseMapping(tc.spec)
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		if m.Kind != tc.want.Kind || m.Unit != tc.want.Unit || m.Transfer != tc.want.Transfer ||
			!near(m.Scale, tc.want.Scale) || !near(m.Offset, tc.want.Offset) {
			t.Errorf("%q = %+v, want %+v", tc.spec, m, tc.want)
		}
		a, b, err := m.Linear()
		if err != nil || !near(a, tc.a) || !near(b, tc.b) {
			t.Errorf("%q: Linear = %v, %v, %v; want %v, %v", tc.spec, a, b, err, tc.a, tc.b)
		}
		back, err := ParseMapping(m.String())
		if err != nil || back.Kind != m.Kind || !near(back.Scale, m.Scale) || !near(back.Offset, m.Offset) || back.Transfer != m.Transfer {
			t.Errorf("%q: String %q reads back as %+v, %v", tc.spec, m.String(), back, err)
		}
	}
	bad := map[string]string{
		"muscle:uV":              "unknown channel kind",
		"emg:furlong":            "unknown EMG unit",
		"acc:plux16":             "converts emg, not acc",
		"emg:plux0":              "not 1..24",
		"emg:bitalino25":         "not 1..24",
		"emg:plux16,scale=2":     "sets scale and offset itself",
		"emg:uV,scale=0":         "must not be 0",
		"emg:uV,gain=2":          "want scale=NUMBER or offset=NUMBER",
		"emg:uV,scale=abc":       `"abc" is not a finite number`,
		"emg:uV,scale=NaN":       "not a finite number",
		"emg:uV,scale=1/0":       "denominator",
		"emg:uV,scale=1,scale=2": "scale given twice",
	}
	for spec, want := range bad {
		if _, err := ParseMapping(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want one mentioning %q", spec, err, want)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }
