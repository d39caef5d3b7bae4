package ascii

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/twitchd/twitchd/internal/decode"
	"github.com/twitchd/twitchd/internal/source/serial"
)

// Settings are an ASCII device's keys in a [[device]] table.
type Settings struct {
	// Rate is the line rate in Hz, needed to dial (it may come from a
	// flag, so Check does not insist on it).
	Rate float64 `toml:"rate"`
	// Counter says lines start with a millisecond counter.
	Counter bool `toml:"counter"`
	// Channels map columns by label or index; without any they are
	// inferred from the first line.
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
	_, err := s.columns()
	return err
}

// Config maps the settings to a Config.
func (s *Settings) Config() (Config, error) {
	if s.Rate <= 0 {
		return Config{}, errors.New("ascii: the line rate is needed (--rate or rate = ... in the config)")
	}
	cols, err := s.columns()
	return Config{Rate: s.Rate, Counter: s.Counter, Columns: cols}, err
}

// columns maps the channel settings to Columns.
func (s *Settings) columns() ([]Column, error) {
	var cols []Column
	for _, ch := range s.Channels {
		kind, err := ch.ParsedKind()
		if err != nil {
			return nil, err
		}
		c := Column{Label: ch.Label, Name: ch.Name, Kind: kind, Unit: ch.Unit, ADCBits: ch.ADCBits,
			VRef: ch.VRef, Gain: ch.Gain, Offset: ch.Offset, Scale: ch.Scale}
		if ch.Index != nil {
			c.Index = *ch.Index
		}
		if ch.Axis != "" {
			c.Axis = ch.Axis[0]
		}
		if _, err := decode.Scale(kind, cmp.Or(ch.Unit, decode.CanonicalUnit(kind))); err != nil {
			return nil, fmt.Errorf("ascii: channel %q: %w", ch.Name, err)
		}
		cols = append(cols, c)
	}
	return cols, nil
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
			s := st.(*Settings)
			hz := s.Rate
			if hz <= 0 {
				hz = DefaultStandInRate
			}
			return &Encoder{Hz: hz, Counter: s.Counter}, nil
		},
	})
}
