package main

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// --metrics serves /metrics, /livez and /readyz from the real process.
func TestMetricsFlag(t *testing.T) {
	t.Parallel()
	srv := startServerEnv(t, filepath.Join(t.TempDir(), "data"), nil, "--metrics", "127.0.0.1:0")
	m := regexp.MustCompile(`url=http://(127\.0\.0\.1:\d+)/metrics`).FindStringSubmatch(srv.stderr.String())
	if m == nil {
		t.Fatalf("no metrics address logged:\n%s", srv.stderr.String())
	}
	for path, want := range map[string]string{
		"/readyz":  "ok",
		"/livez":   "ok",
		"/metrics": "securechat_build_info{",
	} {
		resp, err := http.Get("http://" + m[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
}
