package main

import (
	"context"
	"sync"
	"time"
)

// crowdReport is --crowd: sessions that all connect at once at the start of
// the measured period, as a room's users do after a restart. The run's
// latency is then what the sessions already in the room saw meanwhile.
type crowdReport struct {
	Sessions    int      `json:"sessions"`
	Concurrency int      `json:"concurrency"`
	Connected   int      `json:"connected"`
	Failed      int      `json:"failed"`
	TotalSec    float64  `json:"total_sec"` // from the first dial to the last UI drawn
	P50Ms       float64  `json:"p50_ms"`
	P99Ms       float64  `json:"p99_ms"`
	MaxMs       float64  `json:"max_ms"`
	Errors      []string `json:"errors,omitempty"`
}

// crowdRun is a crowd being opened in the background.
type crowdRun struct {
	done     chan struct{}
	rep      *crowdReport
	sessions []*chatSession
}

// startCrowd opens --crowd sessions (the users after --sessions and
// --stalled, from the source slots after theirs) --crowd-concurrency at a
// time, without waiting. Their screens are modelled like the others' but
// their deliveries and bytes are not counted: they have their own counters.
// With no crowd asked for it returns a run that is already done.
func (r *loadRun) startCrowd(ctx context.Context) *crowdRun {
	c := &crowdRun{done: make(chan struct{})}
	n := r.cfg.crowd
	if n == 0 {
		close(c.done)
		return c
	}
	r.prog.printf("crowd: %d sessions connecting, %d at a time", n, r.cfg.crowdConcurrency)
	opts := sessionOptions{d: r.d, width: r.cfg.width, height: r.cfg.height, emulator: r.cfg.emulator, clk: r.clk, stats: &runStats{}, reg: r.reg}
	go func() {
		defer close(c.done)
		var rep connectReport
		c.sessions, rep = r.openMany(ctx, opts, r.cfg.sessions+r.cfg.stalled, n, r.cfg.crowdConcurrency)
		c.rep = &crowdReport{
			Sessions: n, Concurrency: r.cfg.crowdConcurrency,
			Connected: rep.Connected, Failed: rep.Failed, TotalSec: rep.TotalSec,
			P50Ms: rep.P50Ms, P99Ms: rep.P99Ms, MaxMs: rep.MaxMs, Errors: rep.Errors,
		}
		r.prog.printf("crowd: %d of %d connected in %.1f s", rep.Connected, n, rep.TotalSec)
	}()
	return c
}

// wait returns the crowd's report once it has connected (openMany is
// bounded by --connect-timeout); nil when there was no crowd.
func (c *crowdRun) wait() *crowdReport {
	<-c.done
	return c.rep
}

// close waits for the crowd to finish connecting and ends its sessions.
func (c *crowdRun) close() {
	<-c.done
	var wg sync.WaitGroup
	for _, s := range c.sessions {
		wg.Go(func() { s.close(5 * time.Second) })
	}
	wg.Wait()
}
