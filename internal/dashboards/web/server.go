// Package web serves twitchd's dashboards as a web page for people on
// InfluxDB 1.8 (which has no UI) or without Grafana: it runs the Flux of
// every panel of internal/dashboards, exactly as exported, and draws the
// results on the server (SVG charts with gonum.org/v1/plot, HTML tables).
// The page, its style sheet and script are embedded in the binary; the
// page makes no request to any other host.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twitchd/twitchd/internal/dashboards"
)

//go:embed assets
var assets embed.FS

// Config is what a Server needs.
type Config struct {
	// Dashboard holds the panels and variables (dashboards.New(bucket)).
	Dashboard *dashboards.Dashboard
	// Query runs Flux against the bucket.
	Query Querier
	// Where names the server in messages, e.g. "http://127.0.0.1:8086".
	Where string
	// Timeout bounds the queries of one page (default 30 s).
	Timeout time.Duration
	// Parallel is how many panel queries run at once (default 4).
	Parallel int
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Log receives one line per failed query; nil discards.
	Log *slog.Logger
}

// Server is the dashboards' web page: an http.Handler.
type Server struct {
	cfg    Config
	page   *template.Template
	static http.Handler
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Dashboard == nil || cfg.Query == nil {
		return nil, errors.New("web: Config needs a Dashboard and a Querier")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	page, err := template.New("page.html").
		ParseFS(assets, "assets/page.html")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return &Server{cfg: cfg, page: page, static: http.StripPrefix("/static/", http.FileServerFS(static))}, nil
}

// ServeHTTP serves the page at /, its assets under /static/, and the
// Flux of one panel at /flux?panel=ID (with the page's parameters).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		http.Error(w, "only GET", http.StatusMethodNotAllowed)
	case strings.HasPrefix(r.URL.Path, "/static/"):
		w.Header().Set("Cache-Control", "max-age=3600")
		s.static.ServeHTTP(w, r)
	case r.URL.Path == "/favicon.ico":
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	case r.URL.Path == "/flux":
		s.serveFlux(w, r)
	case r.URL.Path == "/":
		s.servePage(w, r)
	default:
		http.NotFound(w, r)
	}
}

// view is what the page template shows.
type view struct {
	Title    string
	Notice   string
	Where    string
	Bucket   string
	Subjects []string
	Sites    []string
	Subject  string
	Site     string
	From, To string // date inputs, YYYY-MM-DD
	Range    string // shown above the panels
	// Message explains why there is nothing to show (or a partial
	// failure); Problem marks it as an error.
	Message string
	Problem bool
	// DataRange links to the range that holds the subject's data.
	DataRange string
	Panels    []panelView
}

// panelView is one panel as drawn.
type panelView struct {
	ID, Title, Help string
	Span, Rows      int // grid columns and height units
	State           string
	Message         string
	Body            template.HTML
	FluxURL         string
	NRows           int
}

// selection is what the request asks for, after defaults.
type selection struct {
	vars      dashboards.Vars
	recs      []recording // the subject's recordings
	subjects  []string
	sites     []string
	dataRange string // URL of the subject's full range, when the chosen one differs
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	v := &view{Title: s.cfg.Dashboard.Title, Notice: dashboards.Notice, Where: s.cfg.Where, Bucket: s.cfg.Dashboard.Bucket}
	sel, status, err := s.choose(ctx, r.URL.Query())
	if sel != nil {
		v.Subjects, v.Sites, v.Subject, v.Site = sel.subjects, sel.sites, sel.vars.Subject, sel.vars.Site
	}
	if err != nil {
		v.Message, v.Problem = err.Error(), status != http.StatusOK
		s.writePage(w, status, v)
		return
	}
	vars := sel.vars
	v.From, v.To = vars.Start.Format(time.DateOnly), vars.Stop.Add(-time.Nanosecond).Format(time.DateOnly)
	v.Range = fmt.Sprintf("%s to %s (UTC)", vars.Start.Format("2006-01-02 15:04"), vars.Stop.Format("2006-01-02 15:04"))
	v.Panels = s.panels(ctx, vars)
	rows, failed := 0, 0
	for _, p := range v.Panels {
		rows += p.NRows
		if p.State == "error" {
			failed++
		}
	}
	switch {
	case failed > 0:
		v.Message, v.Problem = fmt.Sprintf("%d panels could not be drawn; their messages say why.", failed), true
	case rows == 0:
		v.Message = fmt.Sprintf("InfluxDB holds nothing for subject %q at site %q between %s.", vars.Subject, vars.Site, v.Range)
		if sel.dataRange != "" {
			v.Message += " Their recordings lie elsewhere in time."
			v.DataRange = sel.dataRange
		}
	}
	s.writePage(w, http.StatusOK, v)
}

func (s *Server) writePage(w http.ResponseWriter, status int, v *view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := s.page.Execute(w, v); err != nil {
		s.cfg.Log.Error("page", "err", err)
	}
}

// choose works out subject, site and time range from the request and
// what InfluxDB holds. The error is the message for the page, with the
// HTTP status to send.
func (s *Server) choose(ctx context.Context, q url.Values) (*selection, int, error) {
	sel := &selection{}
	all, err := s.recordings(ctx, "")
	if err != nil {
		return nil, http.StatusServiceUnavailable, s.explain(err)
	}
	now := s.cfg.Now()
	wide := dashboards.Vars{Start: time.Unix(0, 0), Stop: now}
	if sel.subjects, err = s.values(ctx, "subject", wide); err != nil {
		return nil, http.StatusServiceUnavailable, s.explain(err)
	}
	if len(all) == 0 || len(sel.subjects) == 0 {
		return sel, http.StatusOK, fmt.Errorf("InfluxDB at %s holds no twitchd recordings in bucket %q yet. "+
			"Replay one into it: twitchd replay --influx-url %s --influx-bucket %s --subject NAME FILE",
			s.cfg.Where, s.cfg.Dashboard.Bucket, s.cfg.Where, s.cfg.Dashboard.Bucket)
	}
	latest := all[len(all)-1]
	subject := q.Get("subject")
	if subject == "" {
		subject = latest.subject
	}
	sel.vars.Subject = subject
	if !slices.Contains(sel.subjects, subject) {
		return sel, http.StatusNotFound, fmt.Errorf("InfluxDB at %s holds nothing for subject %q. Subjects with data: %s",
			s.cfg.Where, subject, strings.Join(sel.subjects, ", "))
	}
	for _, r := range all {
		if r.subject == subject {
			sel.recs = append(sel.recs, r)
		}
	}
	wide.Subject = subject
	if sel.sites, err = s.values(ctx, "site", wide); err != nil {
		return sel, http.StatusServiceUnavailable, s.explain(err)
	}
	site := q.Get("site")
	if site == "" && len(sel.recs) > 0 {
		site = sel.recs[len(sel.recs)-1].site
	}
	if site == "" && len(sel.sites) > 0 {
		site = sel.sites[0]
	}
	sel.vars.Site = site
	if err := s.chooseRange(sel, q); err != nil {
		return sel, http.StatusBadRequest, err
	}
	return sel, http.StatusOK, nil
}

// chooseRange sets the time range from the from and to parameters (dates
// or RFC 3339 times; to is inclusive when a date), or to the days around
// the subject's recordings.
func (s *Server) chooseRange(sel *selection, q url.Values) error {
	var from, to time.Time
	if len(sel.recs) > 0 {
		from, to = span(sel.recs)
	} else {
		to = s.cfg.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		from = to.AddDate(0, 0, -7)
	}
	dataFrom, dataTo := from, to
	if f := q.Get("from"); f != "" {
		t, err := parseTime(f)
		if err != nil {
			return fmt.Errorf("from: %w", err)
		}
		from = t
	}
	if x := q.Get("to"); x != "" {
		t, err := parseTime(x)
		if err != nil {
			return fmt.Errorf("to: %w", err)
		}
		if len(x) == len(time.DateOnly) {
			t = t.Add(24 * time.Hour) // the whole day
		}
		to = t
	}
	if !to.After(from) {
		return fmt.Errorf("the range %s to %s is empty", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	sel.vars.Start, sel.vars.Stop, sel.vars.Window = from, to, windowPeriod(to.Sub(from))
	if !from.Equal(dataFrom) || !to.Equal(dataTo) {
		sel.dataRange = "/?" + url.Values{"subject": {sel.vars.Subject}, "site": {sel.vars.Site}}.Encode()
	}
	return nil
}

// panels runs every panel's queries, a few at a time, and draws them.
func (s *Server) panels(ctx context.Context, vars dashboards.Vars) []panelView {
	ps := s.cfg.Dashboard.Panels
	out := make([]panelView, len(ps))
	sem := make(chan struct{}, s.cfg.Parallel)
	var wg sync.WaitGroup
	for i := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = s.panel(ctx, &ps[i], vars)
		}()
	}
	wg.Wait()
	return out
}

func (s *Server) panel(ctx context.Context, p *dashboards.Panel, vars dashboards.Vars) panelView {
	pv := panelView{ID: p.ID, Title: p.Title, Help: p.Help, Span: p.W, Rows: p.H}
	if p.Kind == dashboards.KindNote {
		pv.State, pv.Body = "ok", note(p.Text)
		return pv
	}
	pv.FluxURL = "/flux?" + url.Values{"panel": {p.ID}, "subject": {vars.Subject}, "site": {vars.Site},
		"from": {vars.Start.Format(time.RFC3339)}, "to": {vars.Stop.Format(time.RFC3339)}}.Encode()
	rows, err := s.run(ctx, p.Flux, vars)
	var marks []Row
	if err == nil && p.Markers != "" {
		marks, err = s.run(ctx, p.Markers, vars)
	}
	if err != nil {
		s.cfg.Log.Warn("panel query failed", "panel", p.ID, "err", err)
		pv.State, pv.Message = "error", s.explain(err).Error()
		return pv
	}
	pv.NRows = len(rows)
	if len(rows) == 0 && p.Kind != dashboards.KindStat {
		pv.State, pv.Message = "empty", "No data in this range."
		return pv
	}
	body, err := render(p, rows, marks, vars)
	if err != nil {
		pv.State, pv.Message = "error", err.Error()
		return pv
	}
	pv.State, pv.Body = "ok", body
	return pv
}

// serveFlux shows a panel's query as the page runs it.
func (s *Server) serveFlux(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := s.cfg.Dashboard.Panel(q.Get("panel"))
	if p == nil || p.Flux == "" {
		http.Error(w, "no such panel", http.StatusNotFound)
		return
	}
	vars := dashboards.Vars{Subject: q.Get("subject"), Site: q.Get("site")}
	var err1, err2 error
	vars.Start, err1 = parseTime(q.Get("from"))
	vars.Stop, err2 = parseTime(q.Get("to"))
	if err := errors.Join(err1, err2); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	vars.Window = windowPeriod(vars.Stop.Sub(vars.Start))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "// %s\n", p.Title)
	fmt.Fprint(w, dashboards.WithVars(p.Flux, vars))
	if p.Markers != "" {
		fmt.Fprint(w, "\n// markers\n"+dashboards.WithVars(p.Markers, vars))
	}
}

// ListenAndServe serves h at addr until ctx ends, then shuts down
// within 5 s. ready is called with the page's URL once the address is
// bound (so the caller can print it).
func ListenAndServe(ctx context.Context, addr string, h http.Handler, ready func(url string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	if ready != nil {
		ready("http://" + ln.Addr().String() + "/")
	}
	select {
	case err := <-done:
		return fmt.Errorf("web: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	<-done
	return nil
}
