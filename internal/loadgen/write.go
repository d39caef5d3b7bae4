package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Writer posts line protocol to InfluxDB 1.8's /write endpoint, a
// retention policy per request, with a few requests in flight. It is the
// Output of Generate: Write copies the lines and returns while earlier
// requests are still being sent.
type Writer struct {
	base, db, token string
	client          *http.Client
	work            chan job
	wg              sync.WaitGroup
	mu              sync.Mutex
	err             error
}

type job struct {
	rp    string
	lines []byte
}

// NewWriter returns a Writer to database db at url with conc requests in
// flight (at least 1); token, when set, is sent as "Token user:password".
func NewWriter(url, db, token string, conc int) *Writer {
	w := &Writer{base: strings.TrimRight(url, "/"), db: db, token: token, client: &http.Client{Timeout: 5 * time.Minute},
		work: make(chan job, conc)}
	for i := 0; i < max(conc, 1); i++ {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for j := range w.work {
				if err := w.post(j); err != nil {
					w.mu.Lock()
					if w.err == nil {
						w.err = err
					}
					w.mu.Unlock()
				}
			}
		}()
	}
	return w
}

// Write queues lines for rp; it returns the first error of an earlier
// request, if any.
func (w *Writer) Write(ctx context.Context, rp string, lines []byte) error {
	w.mu.Lock()
	err := w.err
	w.mu.Unlock()
	if err != nil {
		return err
	}
	select {
	case w.work <- job{rp, bytes.Clone(lines)}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close waits for every request and returns the first error.
func (w *Writer) Close() error {
	close(w.work)
	w.wg.Wait()
	return w.err
}

func (w *Writer) post(j job) error {
	u := fmt.Sprintf("%s/write?db=%s&rp=%s&precision=ns", w.base, url.QueryEscape(w.db), url.QueryEscape(j.rp))
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(j.lines))
		if err != nil {
			return err
		}
		if w.token != "" {
			req.Header.Set("Authorization", "Token "+w.token)
		}
		resp, err := w.client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return nil
			}
			err = fmt.Errorf("loadgen: write to %s: %s: %.300s", j.rp, resp.Status, body)
			if resp.StatusCode/100 == 4 {
				return err
			}
		}
		if attempt >= 5 {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * time.Second)
	}
}
