package influxconn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Series is one series of an InfluxQL answer.
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// InfluxQLTimeout bounds one InfluxQL request.
const InfluxQLTimeout = 10 * time.Minute

// Database returns the database of the bucket: what comes before "/" in
// "database/retention-policy" (InfluxDB 1.8).
func (c *Conn) Database() string {
	db, _, _ := strings.Cut(c.settings.Bucket, "/")
	return db
}

// InfluxQL runs one InfluxQL statement through InfluxDB 1.8's /query
// endpoint (retention policies, continuous queries and SHOW statements,
// which the 2.x API of 1.8 does not offer), with the connection's token as
// "Authorization: Token user:password", which 1.8 accepts there too. It
// returns the series of the answer, or an error with the server's own
// message.
func (c *Conn) InfluxQL(ctx context.Context, db, stmt string) ([]Series, error) {
	ctx, cancel := context.WithTimeout(ctx, InfluxQLTimeout)
	defer cancel()
	u := strings.TrimRight(c.settings.URL, "/") + "/query"
	form := url.Values{"q": {stmt}}
	if db != "" {
		form.Set("db", db)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("influxql: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.token != "" {
		req.Header.Set("Authorization", "Token "+c.token)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = c.tls
	hc := &http.Client{Transport: tr}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("influxql %s: %w", Redact(u), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("influxql %s: %w", Redact(u), err)
	}
	var ans struct {
		Results []struct {
			Series []Series `json:"series"`
			Err    string   `json:"error"`
		} `json:"results"`
		Err string `json:"error"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("influxql %s: %s: %.200s", Redact(u), resp.Status, body)
	}
	if ans.Err != "" {
		return nil, fmt.Errorf("influxql %q: %s", stmt, ans.Err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("influxql %q: %s", stmt, resp.Status)
	}
	var out []Series
	for _, r := range ans.Results {
		if r.Err != "" {
			return nil, fmt.Errorf("influxql %q: %s", stmt, r.Err)
		}
		out = append(out, r.Series...)
	}
	return out, nil
}
