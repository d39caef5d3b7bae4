// Package all registers every decoder with package decode. Import it for
// its side effect.
package all

import (
	_ "github.com/twitchd/twitchd/internal/decode/actilife"    // ActiGraph ActiLife raw CSV
	_ "github.com/twitchd/twitchd/internal/decode/ascii"       // Arduino-style ASCII serial captures
	_ "github.com/twitchd/twitchd/internal/decode/bitalino"    // BITalino (r)evolution binary captures
	_ "github.com/twitchd/twitchd/internal/decode/csv"         // generic delimited text
	_ "github.com/twitchd/twitchd/internal/decode/cwa"         // Axivity CWA
	_ "github.com/twitchd/twitchd/internal/decode/cyton"       // OpenBCI Cyton binary captures
	_ "github.com/twitchd/twitchd/internal/decode/edf"         // EDF, EDF+, BDF
	_ "github.com/twitchd/twitchd/internal/decode/openbci"     // OpenBCI GUI recordings
	_ "github.com/twitchd/twitchd/internal/decode/opensignals" // OpenSignals text files
)
