package influx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"
)

func TestClassify(t *testing.T) {
	v1 := http.Header{"X-Influxdb-Version": {"1.8.10"}}
	v2 := http.Header{"X-Influxdb-Version": {"v2.7.1"}}
	herr := func(code int, msg string, h http.Header, retryAfter uint) error {
		return &http2.Error{StatusCode: code, Code: http.StatusText(code), Message: msg, Header: h, RetryAfter: retryAfter}
	}
	tests := []struct {
		name       string
		err        error
		want       outcome
		dropped    int
		retryAfter time.Duration
	}{
		{"success", nil, outWritten, 0, 0},
		{"connection refused", http2.NewError(errors.New("dial tcp: connection refused")), outRetry, 0, 0},
		{"timeout", http2.NewError(context.DeadlineExceeded), outRetry, 0, 0},
		{"not an http error", errors.New("odd"), outRetry, 0, 0},
		{"429 with Retry-After", herr(429, "slow down", v1, 7), outRetry, 0, 7 * time.Second},
		{"503", herr(503, "unavailable", v1, 0), outRetry, 0, 0},
		{"500 write timeout", herr(500, "timeout", v1, 0), outRetry, 0, 0},
		{"field type conflict", herr(400, `partial write: field type conflict: input field "peak" on measurement "twitch" is type float, already exists as type string dropped=3`, v1, 0), outPartial, 3, 0},
		{"beyond retention", herr(400, "partial write: points beyond retention policy dropped=12", v1, 0), outPartial, 12, 0},
		{"2.x conflict as 422", herr(422, "failure writing points to database: partial write: field type conflict dropped=1", v2, 0), outPartial, 1, 0},
		{"1.x partial parse failure", herr(400, "partial write: unable to parse 'x': missing fields dropped=0", v1, 0), outBisect, 0, 0},
		{"1.x nothing parsed", herr(400, "unable to parse 'x': missing fields", v1, 0), outRejected, 0, 0},
		{"1.x built from source", herr(400, "unable to parse 'x': missing fields", http.Header{"X-Influxdb-Version": {"unknown"}}, 0), outRejected, 0, 0},
		{"2.x parse failure rejects the body", herr(400, "unable to parse 'x': missing fields", v2, 0), outBisect, 0, 0},
		{"truncated message without count", herr(400, "partial write: max-values-per-tag limit exceeded (100", v1, 0), outBisect, 0, 0},
		{"too large", herr(413, "Request Entity Too Large", v1, 0), outBisect, 0, 0},
		{"no database", herr(404, `database not found: "nosuchdb"`, v1, 0), outGiveUp, 0, 0},
		{"unauthorized", herr(401, "authorization failed", v1, 0), outConfig, 0, 0},
		{"forbidden", herr(403, "insufficient permissions for write", v2, 0), outConfig, 0, 0},
		{"unknown CA", http2.NewError(&url.Error{Op: "Post", URL: "https://x", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}), outConfig, 0, 0},
		{"wrong host", http2.NewError(&url.Error{Op: "Post", URL: "https://x", Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "x"}}), outConfig, 0, 0},
		{"http server at https URL", http2.NewError(&url.Error{Op: "Post", URL: "https://x", Err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}}), outConfig, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, dropped, ra := classify(context.Background(), tc.err)
			if out != tc.want || dropped != tc.dropped || ra != tc.retryAfter {
				t.Errorf("classify = %d, %d, %v; want %d, %d, %v", out, dropped, ra, tc.want, tc.dropped, tc.retryAfter)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if out, _, _ := classify(ctx, http2.NewError(context.Canceled)); out != outClosed {
		t.Errorf("classify after cancel = %d, want outClosed", out)
	}
}

func TestBackoffBounds(t *testing.T) {
	s := &Sink{cfg: Config{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}}
	tests := []struct {
		attempt    int
		retryAfter time.Duration
		lo, hi     time.Duration
	}{
		{1, 0, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 0, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, 0, 400 * time.Millisecond, 800 * time.Millisecond},
		{5, 0, 500 * time.Millisecond, time.Second}, // capped
		{100, 0, 500 * time.Millisecond, time.Second},
		{1, 3 * time.Second, 3 * time.Second, 3 * time.Second}, // Retry-After wins
	}
	for _, tc := range tests {
		for k := 0; k < 100; k++ {
			if d := s.backoff(tc.attempt, tc.retryAfter); d < tc.lo || d > tc.hi {
				t.Fatalf("backoff(%d, %v) = %v, want within [%v, %v]", tc.attempt, tc.retryAfter, d, tc.lo, tc.hi)
			}
		}
	}
}
