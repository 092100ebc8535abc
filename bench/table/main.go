// Command table turns a bench/run.sh output folder into the side-by-side
// table of BENCHMARKS.md: one row per workload, one column group per server
// (securechat, bench/floor, ssh-chat), the median of the runs of each.
//
//	go run ./bench/table OUT
//
// It reads OUT/W.N.json (securechat), OUT/W.baseline.N.json,
// OUT/W.floor.N.json and OUT/W.sshchat.N.json, as written by
// securechat-load --json.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: table OUT (a bench/run.sh output folder)")
		os.Exit(2)
	}
	runs, err := load(os.Args[1])
	if err == nil {
		err = write(os.Stdout, runs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "table:", err)
		os.Exit(1)
	}
}

// result is the part of securechat-load's JSON report the table shows.
type result struct {
	Run *struct {
		Sessions  int     `json:"sessions"`
		Expected  int64   `json:"expected_deliveries"`
		Delivered int64   `json:"delivered"`
		Order     int64   `json:"order_violations"`
		Lost      int     `json:"sessions_lost"`
		BytesPer  float64 `json:"bytes_per_delivery"`
		Connect   struct {
			Connected int     `json:"connected"`
			TotalSec  float64 `json:"total_sec"`
		} `json:"connect"`
		Latency struct {
			P50 float64 `json:"p50_ms"`
			P99 float64 `json:"p99_ms"`
		} `json:"latency"`
		Crowd *struct {
			Sessions  int     `json:"sessions"`
			Connected int     `json:"connected"`
			TotalSec  float64 `json:"total_sec"`
		} `json:"crowd"`
		Server *struct {
			CPUPercent  float64 `json:"cpu_percent"`
			CPUPer1k    float64 `json:"cpu_ms_per_1k_deliveries"`
			IdlePerSess float64 `json:"idle_rss_per_session_kib"`
			PeakKiB     int64   `json:"peak_rss_kib"`
		} `json:"server"`
	} `json:"run"`
}

// servers in the order the table shows them, by file-name tag.
var servers = []struct{ tag, name string }{{"", "securechat"}, {"baseline", "securechat baseline (BENCH_BASELINE)"}, {"sshchat", "ssh-chat"}, {"floor", "bench/floor"}}

var fileName = regexp.MustCompile(`^([A-Za-z0-9]+)\.(?:(floor|sshchat|baseline)\.)?([0-9]+)\.json$`)

// load reads every run in dir: workload → server tag → runs.
func load(dir string) (map[string]map[string][]result, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	runs := map[string]map[string][]result{}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		var r result
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if r.Run == nil {
			continue // a run that failed before measuring
		}
		if runs[m[1]] == nil {
			runs[m[1]] = map[string][]result{}
		}
		runs[m[1]][m[2]] = append(runs[m[1]][m[2]], r)
	}
	if len(runs) == 0 {
		return nil, errors.New("no runs in " + dir)
	}
	return runs, nil
}

// median of what f reads from each run.
func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// write prints one table row per workload and server.
func write(w io.Writer, runs map[string]map[string][]result) error {
	names := make([]string, 0, len(runs))
	for n := range runs {
		names = append(names, n)
	}
	slices.Sort(names)
	fmt.Fprintln(w, "| workload | server | runs | delivered | p50 / p99 ms | CPU % of a core | CPU ms per 1k deliveries | bytes per delivery | idle KiB per session | peak RSS MiB | connect s |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, n := range names {
		for _, s := range servers {
			rs := runs[n][s.tag]
			if len(rs) == 0 {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %.1f | %s | %s | %.0f | %.0f | %s |\n",
				n, s.name, len(rs), delivered(rs), latency(rs),
				median(rs, func(r result) float64 { return cpu(r).CPUPercent }),
				perDelivery(rs, func(r result) float64 { return cpu(r).CPUPer1k }),
				perDelivery(rs, func(r result) float64 { return r.Run.BytesPer }),
				median(rs, func(r result) float64 { return cpu(r).IdlePerSess }),
				median(rs, func(r result) float64 { return float64(cpu(r).PeakKiB) / 1024 }),
				connect(rs))
		}
	}
	return nil
}

type serverStats = struct {
	CPUPercent  float64 `json:"cpu_percent"`
	CPUPer1k    float64 `json:"cpu_ms_per_1k_deliveries"`
	IdlePerSess float64 `json:"idle_rss_per_session_kib"`
	PeakKiB     int64   `json:"peak_rss_kib"`
}

// cpu is a run's server figures (zero when the tool had no PID).
func cpu(r result) serverStats {
	if r.Run.Server == nil {
		return serverStats{}
	}
	return serverStats(*r.Run.Server)
}

// delivered is the share of expected deliveries seen, over all runs, with
// what went wrong (order, lost sessions) said in words.
func delivered(rs []result) string {
	var exp, got, order, lost int64
	for _, r := range rs {
		exp += r.Run.Expected
		got += r.Run.Delivered
		order += r.Run.Order
		lost += int64(r.Run.Lost)
	}
	if exp == 0 {
		return "–"
	}
	s := "100%"
	if got < exp {
		s = fmt.Sprintf("%.4f%% (%d missing)", float64(got)/float64(exp)*100-0.00005, exp-got)
	}
	var notes []string
	if order > 0 {
		notes = append(notes, fmt.Sprintf("%d out of order", order))
	}
	if lost > 0 {
		notes = append(notes, fmt.Sprintf("%d sessions lost", lost))
	}
	if len(notes) > 0 {
		s += ", " + strings.Join(notes, ", ")
	}
	return s
}

func latency(rs []result) string {
	if rs[0].Run.Expected == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f / %.1f", median(rs, func(r result) float64 { return r.Run.Latency.P50 }),
		median(rs, func(r result) float64 { return r.Run.Latency.P99 }))
}

// perDelivery is a per-delivery median, or a dash for idle runs.
func perDelivery(rs []result, f func(result) float64) string {
	if rs[0].Run.Expected == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", median(rs, f))
}

// connect is how long opening every session took, and for a crowd how
// long the crowd took to be all in.
func connect(rs []result) string {
	s := fmt.Sprintf("%.1f", median(rs, func(r result) float64 { return r.Run.Connect.TotalSec }))
	if rs[0].Run.Crowd != nil {
		in := 0
		for _, r := range rs {
			in += r.Run.Crowd.Connected
		}
		s += fmt.Sprintf("; crowd of %d: %.1f (%d of %d in)", rs[0].Run.Crowd.Sessions,
			median(rs, func(r result) float64 { return r.Run.Crowd.TotalSec }), in, rs[0].Run.Crowd.Sessions*len(rs))
	}
	return s
}
