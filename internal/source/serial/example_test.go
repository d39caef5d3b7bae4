package serial_test

import (
	"fmt"
	"log"

	_ "github.com/twitchd/twitchd/internal/decode/all" // registers the live protocols too
	"github.com/twitchd/twitchd/internal/source/serial"
)

// ExampleParseConfig reads a device from a configuration file: the common
// keys into Device, the protocol's own keys into its Settings.
func ExampleParseConfig() {
	fmt.Println(serial.ProtocolNames())
	c, err := serial.ParseConfig("devices.toml", `
[[device]]
name = "arduino"
port = "/dev/ttyACM0"
protocol = "ascii"
rate = 500
counter = true
`)
	if err != nil {
		log.Fatal(err)
	}
	d, _ := c.Find("arduino")
	if err := d.Set("rate", 250.0); err != nil { // as --rate 250 would
		log.Fatal(err)
	}
	fmt.Printf("%s on %s: %+v\n", d.Protocol, d.Port, d.Settings)
	// Output:
	// [ascii bitalino openbci-cyton]
	// ascii on /dev/ttyACM0: &{Rate:250 Counter:true Channels:[]}
}
