// Package deploy holds what runs twitchd as a service: the systemd unit
// twitchd@.service, its system user (sysusers.d) and the configuration
// file it reads. Its tests install them into a staging tree with the
// documented command and check the unit with systemd-analyze.
package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twitchd/twitchd/internal/config"
)

// install runs "make install-service" into a staging tree and returns it.
func install(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make here: install-service is not tested")
	}
	dest := t.TempDir()
	cmd := exec.Command("make", "-s", "-C", "..", "install-service", "DESTDIR="+dest, "BIN="+filepath.Join(dest, "build", "twitchd"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install-service: %v\n%s", err, out)
	}
	return dest
}

// TestInstallService installs into a staging tree: the binary, the unit,
// the system user and a configuration file that config check accepts.
func TestInstallService(t *testing.T) {
	dest := install(t)
	for _, p := range []string{"usr/local/bin/twitchd", "etc/systemd/system/twitchd@.service",
		"usr/lib/sysusers.d/twitchd.conf", "etc/twitchd/twitchd.toml"} {
		if _, err := os.Stat(filepath.Join(dest, p)); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	f, err := config.Load(filepath.Join(dest, "etc/twitchd/twitchd.toml"))
	if err != nil {
		t.Fatalf("the configuration installed does not check:\n%v", err)
	}
	st := config.Defaults()
	f.Apply(&st)
	if _, ok, err := st.FindDevice("left-calf"); !ok || err != nil {
		t.Fatalf("the installed configuration's device: %v", err)
	}
	out, err := exec.Command(filepath.Join(dest, "usr/local/bin/twitchd"), "config", "check", filepath.Join(dest, "etc/twitchd/twitchd.toml")).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte(": ok")) {
		t.Fatalf("the installed twitchd does not accept the installed configuration: %v\n%s", err, out)
	}
}

// TestUnitHardening: the unit runs as its own user in the serial group,
// with its state directory for the spool, a read-only system, no new
// privileges, restarts on failure (not on configuration errors) and a
// watchdog, and speaks the notify protocol.
func TestUnitHardening(t *testing.T) {
	unit, err := os.ReadFile("systemd/twitchd@.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=notify", "User=twitchd", "SupplementaryGroups=dialout", "StateDirectory=twitchd/%i",
		"ProtectSystem=strict", "NoNewPrivileges=yes", "Restart=on-failure", "RestartPreventExitStatus=2 78", "WatchdogSec=",
		"--device %I", "CapabilityBoundingSet=\n", "DevicePolicy=closed"} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("the unit lacks %q", want)
		}
	}
}

// TestUnitVerifies checks the installed unit with systemd-analyze verify
// (Debian package systemd), instance "left-calf": it must report nothing.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found (Debian package systemd): the unit is not verified")
	}
	dest := install(t)
	unit, err := os.ReadFile(filepath.Join(dest, "etc/systemd/system/twitchd@.service"))
	if err != nil {
		t.Fatal(err)
	}
	// The unit names the binary where it is installed; verify checks that
	// it is executable, so point it into the staging tree.
	unit = bytes.ReplaceAll(unit, []byte("/usr/local/bin/twitchd"), []byte(filepath.Join(dest, "usr/local/bin/twitchd")))
	dir := t.TempDir()
	path := filepath.Join(dir, "twitchd@.service")
	if err := os.WriteFile(path, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", filepath.Join(dir, "twitchd@left-calf.service")).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// A broken unit must fail the same check (the test can fail).
	broken := filepath.Join(t.TempDir(), "twitchd@.service")
	os.WriteFile(broken, bytes.Replace(unit, []byte("WatchdogSec="), []byte("WatchdogSecs="), 1), 0o644)
	out, _ = exec.Command(analyze, "verify", "--man=no", strings.Replace(broken, "twitchd@.service", "twitchd@x.service", 1)).CombinedOutput()
	if !bytes.Contains(out, []byte("WatchdogSecs")) {
		t.Fatalf("systemd-analyze did not notice an unknown key: %s", out)
	}
}
