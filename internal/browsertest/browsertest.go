// Package browsertest drives a headless Chromium from a test through the
// Chrome DevTools Protocol, spoken over the pipe Chromium opens with
// --remote-debugging-pipe (JSON messages ended by a NUL byte on file
// descriptors 3 and 4): no port, no websocket, no dependency.
//
// A Page records what a person would not see but a test must: console
// messages, uncaught exceptions, the browser's own error log, and the
// URL of every request the page makes.
package browsertest

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binary returns the Chromium to run: $TWITCHD_CHROMIUM, else the first
// of chromium, chromium-browser, google-chrome on PATH.
func Binary() (string, error) {
	if p := os.Getenv("TWITCHD_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium, chromium-browser or google-chrome on PATH")
}

// Browser is a running headless Chromium.
type Browser struct {
	cmd    *exec.Cmd
	in     *os.File // our end of Chromium's fd 3
	out    *os.File // our end of Chromium's fd 4
	stderr strings.Builder

	mu      sync.Mutex
	next    int
	pending map[int]chan message
	pages   map[string]*Page // by session id
	closed  chan struct{}
	readErr error
}

type message struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Start runs a headless Chromium for the test and stops it in the test's
// cleanup. Without a Chromium it skips the test, saying how to get one.
func Start(t testing.TB) *Browser {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Skipf("headless Chromium not found (%v): install it (Debian: apt-get install chromium; `make test` does when run as root) or set TWITCHD_CHROMIUM", err)
	}
	b, err := launch(bin, t.TempDir())
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

// Flags are what Chromium runs with: headless, and nothing that would
// reach the network by itself (updates, sync, safe browsing, QUIC).
var Flags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
	"--remote-debugging-pipe"}

func launch(bin, profile string) (*Browser, error) {
	cmdR, cmdW, err := os.Pipe() // we write commands, Chromium reads fd 3
	if err != nil {
		return nil, err
	}
	evR, evW, err := os.Pipe() // Chromium writes fd 4, we read
	if err != nil {
		cmdR.Close()
		cmdW.Close()
		return nil, err
	}
	b := &Browser{in: cmdW, out: evR, pending: map[int]chan message{}, pages: map[string]*Page{}, closed: make(chan struct{})}
	b.cmd = exec.Command(bin, append(append([]string{}, Flags...), "--user-data-dir="+profile, "about:blank")...)
	b.cmd.ExtraFiles = []*os.File{cmdR, evW}
	b.cmd.Stderr = &limitedWriter{b: &b.stderr, max: 64 << 10}
	if err := b.cmd.Start(); err != nil {
		cmdR.Close()
		cmdW.Close()
		evR.Close()
		evW.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	cmdR.Close()
	evW.Close()
	go b.read()
	return b, nil
}

// limitedWriter keeps the first max bytes of Chromium's chatter.
type limitedWriter struct {
	mu  sync.Mutex
	b   *strings.Builder
	max int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.max - w.b.Len(); room > 0 {
		w.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (b *Browser) read() {
	r := bufio.NewReaderSize(b.out, 1<<20)
	var err error
	for {
		var raw []byte
		raw, err = r.ReadBytes(0)
		if err != nil {
			break
		}
		var m message
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch := b.pending[m.ID]; ch != nil {
				delete(b.pending, m.ID)
				ch <- m
			}
		} else if p := b.pages[m.SessionID]; p != nil {
			p.event(m)
		}
		b.mu.Unlock()
	}
	b.mu.Lock()
	b.readErr = err
	b.mu.Unlock()
	close(b.closed)
}

// call sends a command (to the browser, or to a page's session) and
// decodes its result into result unless nil.
func (b *Browser) call(ctx context.Context, session, method string, params, result any) error {
	if params == nil {
		params = struct{}{}
	}
	p, err := json.Marshal(params)
	if err != nil {
		return err
	}
	ch := make(chan message, 1)
	b.mu.Lock()
	b.next++
	id := b.next
	b.pending[id] = ch
	b.mu.Unlock()
	msg, _ := json.Marshal(message{ID: id, Method: method, Params: p, SessionID: session})
	if _, err := b.in.Write(append(msg, 0)); err != nil {
		return fmt.Errorf("browsertest: %s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("browsertest: %s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-b.closed:
		return fmt.Errorf("browsertest: %s: Chromium exited (%v); its log:\n%s", method, b.readErr, b.stderr.String())
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return fmt.Errorf("browsertest: %s: %w", method, ctx.Err())
	}
}

// Close ends Chromium (Browser.close, then a kill after 5 s).
func (b *Browser) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.call(ctx, "", "Browser.close", nil, nil)
	done := make(chan struct{})
	go func() {
		_ = b.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-done
	}
	b.in.Close()
	b.out.Close()
}

// Page is one tab.
type Page struct {
	b       *Browser
	session string

	// guarded by b.mu
	console  []string
	errs     []string
	requests []string
}

// NewPage opens a tab of width by height CSS pixels with the runtime,
// log, network and page domains enabled.
func (b *Browser) NewPage(ctx context.Context, width, height int) (*Page, error) {
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		return nil, err
	}
	p := &Page{b: b, session: att.SessionID}
	b.mu.Lock()
	b.pages[p.session] = p
	b.mu.Unlock()
	for _, d := range []string{"Runtime.enable", "Log.enable", "Network.enable"} {
		if err := b.call(ctx, p.session, d, nil, nil); err != nil {
			return nil, err
		}
	}
	err := b.call(ctx, p.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil)
	return p, err
}

// event records what a page reports; b.mu is held.
func (p *Page) event(m message) {
	var v struct {
		Type string `json:"type"`
		Args []struct {
			Value       any    `json:"value"`
			Description string `json:"description"`
		} `json:"args"`
		ExceptionDetails struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
		Entry struct {
			Level string `json:"level"`
			Text  string `json:"text"`
			URL   string `json:"url"`
		} `json:"entry"`
		Request struct {
			URL string `json:"url"`
		} `json:"request"`
	}
	_ = json.Unmarshal(m.Params, &v)
	switch m.Method {
	case "Runtime.consoleAPICalled":
		var parts []string
		for _, a := range v.Args {
			if a.Description != "" {
				parts = append(parts, a.Description)
			} else {
				parts = append(parts, fmt.Sprint(a.Value))
			}
		}
		p.console = append(p.console, v.Type+": "+strings.Join(parts, " "))
	case "Runtime.exceptionThrown":
		p.errs = append(p.errs, "exception: "+v.ExceptionDetails.Text+" "+v.ExceptionDetails.Exception.Description)
	case "Log.entryAdded":
		if v.Entry.Level == "error" {
			p.errs = append(p.errs, "log: "+v.Entry.Text+" "+v.Entry.URL)
		}
	case "Network.requestWillBeSent":
		p.requests = append(p.requests, v.Request.URL)
	}
}

// Navigate loads url and waits until its document is complete (its
// load event has fired).
func (p *Page) Navigate(ctx context.Context, url string) error {
	var res struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.b.call(ctx, p.session, "Page.navigate", map[string]any{"url": url}, &res); err != nil {
		return err
	}
	if res.ErrorText != "" {
		return fmt.Errorf("browsertest: navigate to %s: %s", url, res.ErrorText)
	}
	for {
		var state struct {
			Ready string `json:"ready"`
			Href  string `json:"href"`
		}
		err := p.Eval(ctx, `({ready: document.readyState, href: location.href})`, &state)
		if err == nil && state.Ready == "complete" && state.Href == url {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("browsertest: %s did not load (%s %s, %v): %w", url, state.Ready, state.Href, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Eval evaluates a JavaScript expression and decodes its (JSON) value.
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	err := p.b.call(ctx, p.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res)
	if err != nil {
		return err
	}
	if res.ExceptionDetails != nil {
		return fmt.Errorf("browsertest: %s: %s", expr, res.ExceptionDetails.Text)
	}
	return json.Unmarshal(res.Result.Value, out)
}

// Screenshot returns a PNG of the whole page, not only the viewport.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	var m struct {
		Content struct {
			Width  float64 `json:"width"`
			Height float64 `json:"height"`
		} `json:"cssContentSize"`
	}
	if err := p.b.call(ctx, p.session, "Page.getLayoutMetrics", nil, &m); err != nil {
		return nil, err
	}
	var res struct {
		Data string `json:"data"`
	}
	err := p.b.call(ctx, p.session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": m.Content.Width, "height": m.Content.Height, "scale": 1}}, &res)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(res.Data)
}

// Console returns the console messages so far ("type: text").
func (p *Page) Console() []string { return p.copyOf(&p.console) }

// Errors returns uncaught exceptions and error entries of the
// browser's log (failed loads, CSP violations, ...).
func (p *Page) Errors() []string { return p.copyOf(&p.errs) }

// Requests returns the URL of every request the page made.
func (p *Page) Requests() []string { return p.copyOf(&p.requests) }

func (p *Page) copyOf(s *[]string) []string {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	return append([]string(nil), (*s)...)
}

// ArtefactDir returns the directory where tests keep what a person may
// want to look at after the run (screenshots): $TWITCHD_ARTEFACTS, else
// bin/test-artefacts under the module root. It creates it.
func ArtefactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TWITCHD_ARTEFACTS")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for root := wd; ; root = filepath.Dir(root) {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				dir = filepath.Join(root, "bin", "test-artefacts")
				break
			}
			if filepath.Dir(root) == root {
				dir = filepath.Join(wd, "test-artefacts")
				break
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
