package influx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"
)

// probeTimeout bounds one probe (a ping): the writer waits for it, and
// batches queue meanwhile.
const probeTimeout = 2 * time.Second

// bypass decides, before a batch is sent, whether it goes to Overflow
// (or is counted as failed) without a request: always after a
// configuration error, and, with an Overflow, while the circuit is open
// unless a probe finds the server answering (the batch is then sent,
// and its answer closes the circuit). It returns the reason and cause
// when the batch is to be bypassed.
func (s *Sink) bypass(ctx context.Context) (Reason, error, bool) {
	s.mu.Lock()
	cfgErr, open := s.stats.ConfigErr, !s.stats.CircuitOpenSince.IsZero()
	due := open && time.Since(s.lastProbe) >= s.cfg.ProbeInterval
	if due {
		s.lastProbe = time.Now()
		s.stats.Probes++
	}
	s.mu.Unlock()
	switch {
	case cfgErr != nil:
		return ReasonConfig, cfgErr, true
	case !open || s.cfg.Overflow == nil:
		return 0, nil, false
	case due:
		pctx, cancel := context.WithTimeout(ctx, min(probeTimeout, s.cfg.HTTPTimeout))
		err := s.ping(pctx)
		cancel()
		if err == nil {
			return 0, nil, false
		}
		if ctx.Err() != nil {
			return ReasonClosed, ctx.Err(), true
		}
		s.mu.Lock()
		s.stats.LastFailure, s.stats.LastFailureErr = time.Now(), err
		s.mu.Unlock()
		return ReasonOutage, fmt.Errorf("influx: server not answering: %w", err), true
	}
	return ReasonOutage, errors.New("influx: circuit open: the server was failing"), true
}

// openCircuit opens the circuit after a failed write, logging once.
func (s *Sink) openCircuit(err error) {
	s.mu.Lock()
	opened := s.stats.CircuitOpenSince.IsZero()
	if opened {
		s.stats.CircuitOpenSince = time.Now()
		s.stats.CircuitOpens++
		s.lastProbe = time.Now()
	}
	s.mu.Unlock()
	if opened {
		s.log.Warn("influx: write failed; new points go to the overflow until the server answers", "err", err)
	}
}

// closeCircuit closes the circuit after the server answered a write.
func (s *Sink) closeCircuit() {
	s.mu.Lock()
	since := s.stats.CircuitOpenSince
	s.stats.CircuitOpenSince = time.Time{}
	s.mu.Unlock()
	if !since.IsZero() {
		s.log.Info("influx: server answers again", "failing_for", time.Since(since).Round(time.Millisecond))
	}
}

// setConfigErr keeps the first configuration error and logs it.
func (s *Sink) setConfigErr(err error) error {
	s.mu.Lock()
	first := s.stats.ConfigErr == nil
	if first {
		s.stats.ConfigErr = err
	}
	err = s.stats.ConfigErr
	s.mu.Unlock()
	if first {
		s.log.Error("influx: not writing any more: fix the configuration and start again", "err", err)
	}
	return err
}

// ConfigErr returns the configuration error that made the sink stop
// writing (wrapping ErrConfig), nil when there was none.
func (s *Sink) ConfigErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.ConfigErr
}

// configError returns err as a configuration error wrapping ErrConfig
// with a hint of what to fix, or nil when err is not one: a 401 or 403
// answer, or a certificate that could not be verified (unknown CA, wrong
// host name, expired) or a server that does not speak TLS at an https URL.
func configError(err error, bucket string) error {
	var he *http2.Error
	if errors.As(err, &he) {
		switch he.StatusCode {
		case 401:
			return fmt.Errorf("%w: the server refused the token (401 Unauthorized; set it in the token file or INFLUX_TOKEN, user:password on 1.8): %w", ErrConfig, err)
		case 403:
			return fmt.Errorf("%w: the token may not write to bucket %s (403 Forbidden): %w", ErrConfig, bucket, err)
		}
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknownCA):
		return fmt.Errorf("%w: the server's certificate is signed by a CA this host does not trust (give it with --influx-ca): %w", ErrConfig, err)
	case errors.As(err, &hostname):
		return fmt.Errorf("%w: the server's certificate is not valid for this host name (use the name it was issued for in the URL): %w", ErrConfig, err)
	case errors.As(err, &invalid), errors.As(err, &verify):
		return fmt.Errorf("%w: the server's certificate could not be verified: %w", ErrConfig, err)
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("%w: the server does not speak TLS at this https URL (http:// instead?): %w", ErrConfig, err)
	}
	return nil
}
