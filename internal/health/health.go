// Package health serves a process's /healthz and its Prometheus /metrics
// over HTTP, on loopback unless told otherwise.
//
// /healthz answers 200 "ok" when the Check function returns nil and 503
// with the error's text otherwise. /metrics writes what the Metrics
// collector writes, in the Prometheus text format (internal/metrics).
package health

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/twitchd/twitchd/internal/metrics"
)

// ErrNotLoopback is wrapped by Listen's error for an address that is not
// on the loopback interface when AllowAny is off.
var ErrNotLoopback = errors.New("health: not a loopback address")

// Config configures a Server.
type Config struct {
	// Addr to listen on, host:port. The host must be a loopback address
	// (127.0.0.0/8, ::1 or "localhost") unless AllowAny is set.
	Addr     string
	AllowAny bool
	// Check returns nil when the process is healthy, or why it is not.
	Check func() error
	// Metrics writes the metrics.
	Metrics metrics.Collector
}

// Server is a running health endpoint.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// CheckAddr returns an error wrapping ErrNotLoopback when addr's host is
// not a loopback address and allowAny is false.
func CheckAddr(addr string, allowAny bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("health: listen address %q: %w", addr, err)
	}
	if allowAny || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("health: %q: %w (use a 127.0.0.1 address, or allow others explicitly)", addr, ErrNotLoopback)
}

// Listen starts serving cfg's endpoints; Close stops it.
func Listen(cfg Config) (*Server, error) {
	if err := CheckAddr(cfg.Addr, cfg.AllowAny); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("health: %w", err)
	}
	s := &Server{
		srv: &http.Server{
			Handler:           Handler(cfg.Check, cfg.Metrics),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			MaxHeaderBytes:    8 << 10,
		},
		ln:   ln,
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr returns the address the server listens on (with the port chosen
// when Config.Addr asked for port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, waiting for requests in progress up to ctx.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}

// Handler returns the handler of /healthz and /metrics.
func Handler(check func() error, m metrics.Collector) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		var err error
		if check != nil {
			err = check()
		}
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "unhealthy: %v\n", err)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		mw := metrics.NewWriter(w)
		if m != nil {
			m.Collect(mw)
		}
		mw.Flush()
	})
	return mux
}
