package bitalino

import (
	"context"
	"fmt"

	"github.com/twitchd/twitchd/internal/source/serial"
)

// Settings are a BITalino's keys in a [[device]] table.
type Settings struct {
	// Rate is 1, 10, 100 or 1000 Hz (0: 1000).
	Rate float64 `toml:"rate"`
	// Channels map analog inputs (index 0 = A1 .. 5 = A6) to sensors; they
	// select the inputs read. Without any, DefaultConfig's apply.
	Channels []serial.Channel `toml:"channel"`
}

// Check implements serial.Settings.
func (s *Settings) Check() error {
	if err := serial.CheckRate(s.Rate); err != nil {
		return err
	}
	if err := serial.CheckChannels(s.Channels); err != nil {
		return err
	}
	_, err := s.Config()
	return err
}

// Config maps the settings to a Config: the channels to sensors and the
// channel mask.
func (s *Settings) Config() (Config, error) {
	cfg := DefaultConfig()
	if s.Rate > 0 {
		cfg.Rate = int(s.Rate)
	}
	if len(s.Channels) == 0 {
		return cfg, nil
	}
	cfg.Mask = 0
	for _, ch := range s.Channels {
		if ch.Index == nil || *ch.Index > 5 {
			return cfg, fmt.Errorf("%s: channel %q needs index 0..5 (A1..A6)", Name, ch.Name)
		}
		kind, err := ch.ParsedKind()
		if err != nil {
			return cfg, err
		}
		sn := Sensor{Kind: kind, Name: ch.Name, Cmin: ch.Cmin, Cmax: ch.Cmax}
		if ch.Axis != "" {
			sn.Axis = ch.Axis[0]
		}
		cfg.Sensors[*ch.Index] = sn
		cfg.Mask |= 1 << *ch.Index
	}
	return cfg, nil
}

func init() {
	serial.Register(serial.Protocol{
		Name:        Name,
		NewSettings: func() serial.Settings { return &Settings{} },
		Dial: func(ctx context.Context, cc serial.ConnConfig, st serial.Settings, so serial.StreamOptions) (*serial.Stream, *serial.Conn, error) {
			cfg, err := st.(*Settings).Config()
			if err != nil {
				return nil, nil, err
			}
			return Dial(ctx, cc, cfg, so)
		},
		StandIn: func(st serial.Settings) (serial.Encoder, error) {
			cfg, err := st.(*Settings).Config()
			if err != nil {
				return nil, err
			}
			return &Encoder{Config: cfg}, nil
		},
	})
}
