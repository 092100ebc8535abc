package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything one invocation measured; sections that did not run
// are nil. Times are in milliseconds, rates per second, memory in KiB.
type report struct {
	Target     string       `json:"target"`
	Setup      *setupReport `json:"setup,omitempty"`
	LoginBench *loginReport `json:"login_bench,omitempty"`
	Run        *runReport   `json:"run,omitempty"`
	Errors     []string     `json:"errors,omitempty"`
}

// loginReport measures key logins: handshake and authentication, then
// close.
type loginReport struct {
	Logins      int      `json:"logins"`
	Failed      int      `json:"failed"`
	Concurrency int      `json:"concurrency"`
	Seconds     float64  `json:"seconds"`
	PerSec      float64  `json:"logins_per_sec"`
	P50Ms       float64  `json:"p50_ms"`
	P99Ms       float64  `json:"p99_ms"`
	MaxMs       float64  `json:"max_ms"`
	Errors      []string `json:"errors,omitempty"`
}

// setupReport says how --setup went. A password login either registered the
// user or logged an existing one in; either way it cost the server a bcrypt
// run, and the user's key was then uploaded.
type setupReport struct {
	Users          int          `json:"users"`
	AlreadySetUp   int          `json:"already_set_up"`
	PasswordLogins int          `json:"password_logins"`
	Failed         int          `json:"failed"`
	Seconds        float64      `json:"seconds"`
	PasswordPerSec float64      `json:"password_logins_per_sec"`
	KeyLogins      *loginReport `json:"key_logins,omitempty"`
	Errors         []string     `json:"errors,omitempty"`
}

// runReport is the load run proper.
type runReport struct {
	Sessions         int           `json:"sessions"`
	Senders          int           `json:"senders"`
	Rate             float64       `json:"rate_per_sender"`
	WarmupSec        float64       `json:"warmup_sec"`
	DurationSec      float64       `json:"duration_sec"`
	Width            int           `json:"width"`
	Height           int           `json:"height"`
	Connect          connectReport `json:"connect"`
	TokensSent       int64         `json:"tokens_sent"`
	Expected         int64         `json:"expected_deliveries"`
	Delivered        int64         `json:"delivered"`
	Ratio            float64       `json:"delivery_ratio"`
	Latency          latencyReport `json:"latency"`
	DeliveriesPerSec float64       `json:"deliveries_per_sec"`
	BytesReceived    int64         `json:"bytes_received"`
	BytesPerDelivery float64       `json:"bytes_per_delivery"`
	OrderViolations  int64         `json:"order_violations"`
	SessionsLost     int           `json:"sessions_lost"`
	Stalled          int           `json:"stalled_sessions,omitempty"`
	StalledDropped   int64         `json:"stalled_dropped,omitempty"`
	NoSelf           bool          `json:"no_self,omitempty"` // a sender's own screen was not counted
	Crowd            *crowdReport  `json:"crowd,omitempty"`
	LateSends        int64         `json:"late_sends"`
	Tool             toolReport    `json:"load_tool"`
	Server           *serverReport `json:"server,omitempty"`
	Errors           []string      `json:"errors,omitempty"` // typing failures, sessions lost
}

// connectReport: from dialling to the UI drawn, per session.
type connectReport struct {
	Connected int      `json:"connected"`
	Failed    int      `json:"failed"`
	P50Ms     float64  `json:"p50_ms"`
	P99Ms     float64  `json:"p99_ms"`
	MaxMs     float64  `json:"max_ms"`
	TotalSec  float64  `json:"total_sec"`
	Errors    []string `json:"errors,omitempty"`
}

// latencyReport: from typing a token to its first appearance on a screen.
// Percentiles come from a histogram with ±1.6% resolution; max is exact.
type latencyReport struct {
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
	MeanMs float64 `json:"mean_ms"`
}

// toolReport is what the load tool itself cost during the measured period
// (all of it: SSH, terminal models, token search), in percent of one core
// and per delivery.
type toolReport struct {
	CPUPercent           float64 `json:"cpu_percent"`
	CPUMicrosPerDelivery float64 `json:"cpu_us_per_delivery"`
	Emulator             string  `json:"emulator"`
}

// serverReport is read from /proc/PID.
type serverReport struct {
	PID                  int     `json:"pid"`
	CPUPercent           float64 `json:"cpu_percent"`
	CPUMsPer1kDeliveries float64 `json:"cpu_ms_per_1k_deliveries"`
	RSSBeforeKiB         int64   `json:"rss_before_kib"`
	RSSIdleKiB           int64   `json:"rss_idle_kib"`
	IdleRSSPerSessionKiB float64 `json:"idle_rss_per_session_kib"`
	RSSEndKiB            int64   `json:"rss_end_kib"`
	PeakRSSKiB           int64   `json:"peak_rss_kib"`
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// perSec is n per second of d (0 when d is 0).
func perSec(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return round3(n / d.Seconds())
}

// writeJSON prints the report as indented JSON.
func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeTable prints the report as a small two-column table.
func (r *report) writeTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	row("target", "%s", r.Target)
	if s := r.Setup; s != nil {
		row("setup", "%d users: %d already set up, %d by password (%.1f/s), %d failed, in %.1f s",
			s.Users, s.AlreadySetUp, s.PasswordLogins, s.PasswordPerSec, s.Failed, s.Seconds)
		for _, e := range s.Errors {
			row("setup error", "%s", e)
		}
		if k := s.KeyLogins; k != nil {
			row("key logins", "%s", k.summary())
			for _, e := range k.Errors {
				row("key login error", "%s", e)
			}
		}
	}
	if b := r.LoginBench; b != nil {
		row("login bench", "%s", b.summary())
		for _, e := range b.Errors {
			row("login bench error", "%s", e)
		}
	}
	if x := r.Run; x != nil {
		x.writeRows(row)
	}
	for _, e := range r.Errors {
		row("error", "%s", e)
	}
	_ = tw.Flush()
}

func (b *loginReport) summary() string {
	return fmt.Sprintf("%d ok, %d failed, %.0f logins/s (%d at a time); p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		b.Logins-b.Failed, b.Failed, b.PerSec, b.Concurrency, b.P50Ms, b.P99Ms, b.MaxMs)
}

func (x *runReport) writeRows(row func(k, format string, args ...any)) {
	row("workload", "%d sessions %dx%d, %d senders × %g/s, warm-up %gs, measured %gs",
		x.Sessions, x.Width, x.Height, x.Senders, x.Rate, x.WarmupSec, x.DurationSec)
	c := x.Connect
	row("connect", "%d ok, %d failed in %.2f s; per session p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		c.Connected, c.Failed, c.TotalSec, c.P50Ms, c.P99Ms, c.MaxMs)
	screens := fmt.Sprintf("%d sessions", c.Connected)
	if x.NoSelf {
		screens += " but the sender's"
	}
	row("deliveries", "%d tokens × %s = %d expected, %d delivered, ratio %s",
		x.TokensSent, screens, x.Expected, x.Delivered, ratioText(x.Delivered, x.Expected))
	l := x.Latency
	row("latency", "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms", l.P50Ms, l.P90Ms, l.P99Ms, l.MaxMs)
	row("throughput", "%.0f deliveries/s, %.0f bytes received per delivery", x.DeliveriesPerSec, x.BytesPerDelivery)
	row("order", "%d violations; %d sessions lost; %d late sends", x.OrderViolations, x.SessionsLost, x.LateSends)
	if x.Stalled > 0 {
		row("stalled", "%d sessions never read; the server dropped %d", x.Stalled, x.StalledDropped)
	}
	if k := x.Crowd; k != nil {
		row("crowd", "%d of %d connected (%d at a time) in %.2f s from the measured period's start; per session p50 %.1f ms, p99 %.1f ms, max %.1f ms",
			k.Connected, k.Sessions, k.Concurrency, k.TotalSec, k.P50Ms, k.P99Ms, k.MaxMs)
		for _, e := range k.Errors {
			row("crowd error", "%s", strings.TrimSpace(e))
		}
	}
	if s := x.Server; s != nil {
		row("server CPU", "%.1f%% of a core (%.1f ms per 1000 deliveries)", s.CPUPercent, s.CPUMsPer1kDeliveries)
		row("server RSS", "peak %s, end %s; idle %.0f KiB per session", mib(s.PeakRSSKiB), mib(s.RSSEndKiB), s.IdleRSSPerSessionKiB)
	}
	t := x.Tool
	row("load tool CPU", "%.1f%% of a core, %.1f µs per delivery (terminal model: %s)", t.CPUPercent, t.CPUMicrosPerDelivery, t.Emulator)
	for _, e := range c.Errors {
		row("connect error", "%s", strings.TrimSpace(e))
	}
	for _, e := range x.Errors {
		row("run error", "%s", e)
	}
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// ratioText is the delivery ratio, never rounded up to 1 when a delivery is
// missing.
func ratioText(delivered, expected int64) string {
	switch {
	case expected == 0:
		return "- (nothing sent)"
	case delivered == expected:
		return "1.0"
	}
	r := math.Floor(float64(delivered)/float64(expected)*1e6) / 1e6
	return fmt.Sprintf("%.6f (%d missing)", r, expected-delivered)
}
