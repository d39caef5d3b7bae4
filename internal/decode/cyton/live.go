package cyton

import (
	"context"
	"fmt"

	"github.com/twitchd/twitchd/internal/source/serial"
	"github.com/twitchd/twitchd/pipeline"
)

// Settings are a Cyton's keys in a [[device]] table.
type Settings struct {
	// Gain is the ADS1299 gain set on the board (default DefaultGain).
	Gain float64 `toml:"gain"`
	// AccelHold repeats the last accelerometer triple on every packet.
	AccelHold bool `toml:"accel_hold"`
	// Channels rename channels (index 0..7 the EXG inputs, 8..10 the
	// accelerometer) and mark an EXG input "other" (unused).
	Channels []serial.Channel `toml:"channel"`
}

// Check implements serial.Settings.
func (s *Settings) Check() error {
	if err := serial.CheckGain(s.Gain); err != nil {
		return err
	}
	if err := serial.CheckChannels(s.Channels); err != nil {
		return err
	}
	for _, ch := range s.Channels {
		if ch.Index == nil || *ch.Index > 10 {
			return fmt.Errorf("%s: channel %q needs index 0..10 (exg0..exg7, acc_x..acc_z)", Name, ch.Name)
		}
		if *ch.Index < 8 && ch.Kind != "" && ch.Kind != "emg" && ch.Kind != "other" {
			return fmt.Errorf("%s: exg%d can be emg or other, not %q", Name, *ch.Index, ch.Kind)
		}
		if *ch.Index >= 8 && ch.Kind != "" && ch.Kind != "acc" {
			return fmt.Errorf("%s: channel %d is the accelerometer (kind acc)", Name, *ch.Index)
		}
	}
	return nil
}

// rename returns the StreamOptions.Channels function that applies the
// channel settings, nil without any. s must have passed Check.
func (s *Settings) rename() func([]pipeline.Channel) {
	if len(s.Channels) == 0 {
		return nil
	}
	return func(chs []pipeline.Channel) {
		for _, ch := range s.Channels {
			c := &chs[*ch.Index]
			if ch.Name != "" {
				c.Name = ch.Name
			}
			if ch.Kind == "other" {
				c.Kind = pipeline.KindOther
			}
		}
	}
}

func init() {
	serial.Register(serial.Protocol{
		Name:        Name,
		NewSettings: func() serial.Settings { return &Settings{} },
		Dial: func(ctx context.Context, cc serial.ConnConfig, st serial.Settings, so serial.StreamOptions) (*serial.Stream, *serial.Conn, error) {
			s := st.(*Settings)
			if err := s.Check(); err != nil {
				return nil, nil, err
			}
			so.Channels = s.rename()
			src, conn := Dial(ctx, cc, Config{Gain: s.Gain, AccelHold: s.AccelHold}, so)
			return src, conn, nil
		},
		StandIn: func(st serial.Settings) (serial.Encoder, error) {
			return &Encoder{Gain: st.(*Settings).Gain}, nil
		},
	})
}
