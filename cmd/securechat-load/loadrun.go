package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Settling after connecting: every join is shown to every session, so the
// screens keep changing for a while; the run waits until no session has
// received anything for settleQuiet, at most settleMax, before it measures
// idle memory and starts sending.
const (
	settleQuiet = 500 * time.Millisecond
	settleMax   = 10 * time.Second
	pollEvery   = 20 * time.Millisecond
)

// loadRun is one load run: its sessions, its tokens and its counters.
type loadRun struct {
	cfg      *config
	d        *dialer
	prog     *progress
	clk      clock
	reg      *tokenReg
	stats    *runStats
	sessions []*chatSession // connected, in user order

	measuredSent atomic.Int64
	lateSends    atomic.Int64
	sendErrs     errorList
}

// window is the run's timeline in clock readings: senders start at t0, the
// measured period is [start, end).
type window struct{ t0, start, end int64 }

// snapshot is what is sampled at each end of the measured period.
type snapshot struct {
	bytes     int64
	self      time.Duration
	server    procSample
	serverErr error
}

// runLoad opens the sessions, runs the senders, and measures.
func runLoad(ctx context.Context, cfg *config, d *dialer, prog *progress) (*runReport, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.runDeadline())
	defer cancel()
	perSender := int(math.Ceil((cfg.warmup+cfg.duration).Seconds()*cfg.rate)) + 2
	r := &loadRun{
		cfg: cfg, d: d, prog: prog, clk: newClock(),
		reg:   newTokenReg(cfg.senders, perSender, rand.Uint64()),
		stats: &runStats{},
	}
	rep := r.baseReport()
	var before procSample
	if cfg.serverPID > 0 {
		var err error
		if before, err = readProc(cfg.serverPID); err != nil {
			return nil, err
		}
	}
	rep.Connect = r.connectAll(ctx)
	defer r.closeAll()
	if len(r.sessions) == 0 {
		return rep, errors.New("no session connected")
	}
	var stalled *stalledSet
	if cfg.stalled > 0 {
		var err error
		stalled, err = r.openStalled(ctx, cfg.stalled)
		defer stalled.close()
		if err != nil {
			return rep, err
		}
		rep.Stalled = cfg.stalled
	}
	r.settle(ctx)
	idle := r.sample()
	w := r.timeline()
	var senders sync.WaitGroup
	sendCtx, stopSenders := context.WithCancel(ctx)
	defer func() {
		stopSenders()
		senders.Wait()
	}()
	r.startSenders(sendCtx, &senders, w)
	prog.printf("sending: %d senders × %g/s; warm-up %s, then measuring %s", cfg.senders, cfg.rate, cfg.warmup, cfg.duration)
	if !r.sleepUntil(ctx, w.start) {
		return rep, fmt.Errorf("warm-up: %w", ctx.Err())
	}
	first := r.sample()
	crowd := r.startCrowd(ctx)
	defer crowd.close()
	if !r.measure(ctx, w) {
		return rep, fmt.Errorf("measured period: %w", ctx.Err())
	}
	last := r.sample()
	stopSenders()
	senders.Wait()
	rep.Crowd = crowd.wait()
	r.grace(ctx, len(r.sessions))
	r.fill(rep, first, last, before, idle)
	if stalled != nil {
		rep.StalledDropped = stalled.dropped.Load()
	}
	return rep, nil
}

// baseReport fills in the workload.
func (r *loadRun) baseReport() *runReport {
	c := r.cfg
	return &runReport{
		Sessions: c.sessions, Senders: c.senders, Rate: c.rate,
		WarmupSec: c.warmup.Seconds(), DurationSec: c.duration.Seconds(),
		Width: c.width, Height: c.height,
	}
}

// connectAll opens every session, a bounded number at a time, within
// --connect-timeout. Session i comes from source slot i, so each source
// address carries at most --per-source sessions.
func (r *loadRun) connectAll(ctx context.Context) connectReport {
	n := r.cfg.sessions
	r.prog.printf("connecting %d sessions (%dx%d), %d at a time, %d per source address", n, r.cfg.width, r.cfg.height, r.cfg.connectConcurrency, r.cfg.perSource)
	opts := sessionOptions{d: r.d, width: r.cfg.width, height: r.cfg.height, emulator: r.cfg.emulator, clk: r.clk, stats: r.stats, reg: r.reg}
	sessions, rep := r.openMany(ctx, opts, 0, n, r.cfg.connectConcurrency)
	r.sessions = sessions
	r.prog.printf("connected %d of %d sessions in %.1f s", rep.Connected, n, rep.TotalSec)
	return rep
}

// openMany opens sessions first … first+n-1 (users and source slots), conc
// at a time, within --connect-timeout, and returns those that opened, in
// order, and how opening went.
func (r *loadRun) openMany(ctx context.Context, opts sessionOptions, first, n, conc int) ([]*chatSession, connectReport) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.connectTimeout)
	defer cancel()
	sessions := make([]*chatSession, n)
	times := make([]time.Duration, n)
	var errs errorList
	var wg sync.WaitGroup
	next := make(chan int)
	start := time.Now()
	for range min(conc, n) {
		wg.Go(func() {
			for i := range next {
				sessions[i], times[i] = r.openOne(ctx, opts, first+i, &errs)
			}
		})
	}
	feed(ctx, next, n)
	wg.Wait()
	total := time.Since(start)
	var opened []*chatSession
	var ok []time.Duration
	for i, s := range sessions {
		if s != nil {
			opened = append(opened, s)
			ok = append(ok, times[i])
		}
	}
	if err := ctx.Err(); err != nil && len(ok) < n {
		errs.add(fmt.Errorf("connecting stopped: %w", err))
	}
	return opened, connectReport{
		Connected: len(ok), Failed: n - len(ok),
		P50Ms: ms(exactPercentile(ok, 50)), P99Ms: ms(exactPercentile(ok, 99)), MaxMs: ms(exactPercentile(ok, 100)),
		TotalSec: round3(total.Seconds()), Errors: errs.list(),
	}
}

// openOne opens session i, recording its error if it fails.
func (r *loadRun) openOne(ctx context.Context, o sessionOptions, i int, errs *errorList) (*chatSession, time.Duration) {
	name := r.cfg.userName(i)
	key, err := r.cfg.signerFor(name)
	if err == nil {
		var s *chatSession
		var took time.Duration
		if s, took, err = openSession(ctx, o, i, name, key); err == nil {
			return s, took
		}
	}
	errs.add(fmt.Errorf("%s: %w", name, err))
	return nil, 0
}

// settle waits until no session has received anything for settleQuiet.
func (r *loadRun) settle(ctx context.Context) {
	deadline := time.Now().Add(settleMax)
	last, quietSince := r.stats.bytes.Load(), time.Now()
	for time.Now().Before(deadline) && time.Since(quietSince) < settleQuiet {
		select {
		case <-ctx.Done():
			return
		case <-time.After(pollEvery):
		}
		if b := r.stats.bytes.Load(); b != last {
			last, quietSince = b, time.Now()
		}
	}
}

// timeline places the warm-up and the measured period after now.
func (r *loadRun) timeline() window {
	t0 := r.clk.now()
	start := t0 + int64(r.cfg.warmup)
	return window{t0: t0, start: start, end: start + int64(r.cfg.duration)}
}

// startSenders starts one goroutine per sender. Sender j is session
// j*N/K, so senders are spread over users and source addresses; each
// starts at a random point within its first interval.
func (r *loadRun) startSenders(ctx context.Context, wg *sync.WaitGroup, w window) {
	n := len(r.sessions)
	interval := int64(float64(time.Second) / r.cfg.rate)
	for j := range r.cfg.senders {
		s := r.sessions[j*n/r.cfg.senders]
		jitter := rand.Int64N(interval)
		wg.Go(func() { r.sendLoop(ctx, j, s, w.t0+jitter, interval, w) })
	}
}

// sendLoop types sender j's tokens at its rate until the measured period
// ends. A sender that falls more than one interval behind (its typing
// blocked) skips ahead rather than bursting, and the skip is counted.
func (r *loadRun) sendLoop(ctx context.Context, j int, s *chatSession, next, interval int64, w window) {
	for seq := 0; seq < r.reg.perSender; seq++ {
		if !r.sleepUntil(ctx, next) {
			return
		}
		now := r.clk.now()
		if now >= w.end {
			return
		}
		measured := now >= w.start
		r.reg.markSent(j, seq, now, measured)
		if measured {
			r.measuredSent.Add(1)
		}
		if err := s.typeLine(r.reg.text(j, seq)); err != nil {
			r.sendErrs.add(fmt.Errorf("%s: type: %w", s.user, err))
			return
		}
		next += interval
		if behind := r.clk.now() - next; behind > interval {
			next += behind
			r.lateSends.Add(1)
		}
	}
}

// sleepUntil waits until the clock reads t; false if ctx ended first.
func (r *loadRun) sleepUntil(ctx context.Context, t int64) bool {
	d := time.Duration(t - r.clk.now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// measure waits out the measured period, printing progress every 10 s.
func (r *loadRun) measure(ctx context.Context, w window) bool {
	const every = int64(10 * time.Second)
	for t := w.start + every; ; t += every {
		if t >= w.end {
			return r.sleepUntil(ctx, w.end)
		}
		if !r.sleepUntil(ctx, t) {
			return false
		}
		r.prog.printf("measuring: %ds of %ds, %d tokens sent, %d deliveries",
			(t-w.start)/int64(time.Second), (w.end-w.start)/int64(time.Second), r.measuredSent.Load(), r.stats.delivered.Load())
	}
}

// grace waits for deliveries still on their way after the measured period,
// until every one has arrived or --grace has passed.
func (r *loadRun) grace(ctx context.Context, sessions int) {
	expected := r.measuredSent.Load() * r.cfg.screensPerToken(sessions)
	deadline := time.Now().Add(r.cfg.grace)
	for r.stats.delivered.Load() < expected && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(pollEvery):
		}
	}
}

// sample reads the counters, the tool's CPU time and the server's /proc.
func (r *loadRun) sample() snapshot {
	s := snapshot{bytes: r.stats.bytes.Load(), self: selfCPU()}
	if r.cfg.serverPID > 0 {
		s.server, s.serverErr = readProc(r.cfg.serverPID)
	}
	return s
}

// fill completes the report from the run's counters and the samples taken
// before connecting (before), after settling (idle), and at both ends of
// the measured period (first, last).
func (r *loadRun) fill(rep *runReport, first, last snapshot, before procSample, idle snapshot) {
	st := r.stats
	dur := r.cfg.duration
	rep.TokensSent = r.measuredSent.Load()
	rep.Expected = rep.TokensSent * r.cfg.screensPerToken(len(r.sessions))
	rep.NoSelf = r.cfg.noSelf
	rep.Delivered = st.delivered.Load()
	if rep.Expected > 0 {
		// Not rounded: one delivery missing in millions must not read 1.
		rep.Ratio = float64(rep.Delivered) / float64(rep.Expected)
	}
	h := &st.latency
	rep.Latency = latencyReport{
		P50Ms: ms(h.percentile(50)), P90Ms: ms(h.percentile(90)), P99Ms: ms(h.percentile(99)),
		MaxMs: ms(h.maxValue()), MeanMs: ms(h.mean()),
	}
	rep.DeliveriesPerSec = perSec(float64(rep.Delivered), dur)
	rep.BytesReceived = last.bytes - first.bytes
	if rep.Delivered > 0 {
		rep.BytesPerDelivery = round3(float64(rep.BytesReceived) / float64(rep.Delivered))
	}
	rep.OrderViolations = st.violations.Load()
	rep.LateSends = r.lateSends.Load()
	errs := &r.sendErrs
	for _, s := range r.sessions {
		if !s.alive() {
			rep.SessionsLost++
			errs.add(fmt.Errorf("%s: session ended: %v", s.user, s.readErr))
		}
	}
	rep.Errors = errs.list()
	self := last.self - first.self
	rep.Tool = toolReport{CPUPercent: pct(self, dur), Emulator: r.cfg.emulator}
	if rep.Delivered > 0 {
		rep.Tool.CPUMicrosPerDelivery = round3(float64(self.Microseconds()) / float64(rep.Delivered))
	}
	if r.cfg.serverPID > 0 {
		rep.Server = serverStats(r.cfg.serverPID, before, idle, first, last, len(r.sessions), rep.Delivered, dur)
	}
}

// serverStats works out the server's share from its /proc samples.
func serverStats(pid int, before procSample, idle, first, last snapshot, sessions int, delivered int64, dur time.Duration) *serverReport {
	s := &serverReport{PID: pid, RSSBeforeKiB: before.rssKiB, RSSIdleKiB: idle.server.rssKiB}
	if first.serverErr != nil || last.serverErr != nil || idle.serverErr != nil {
		return s
	}
	cpu := last.server.cpu - first.server.cpu
	s.CPUPercent = pct(cpu, dur)
	if delivered > 0 {
		s.CPUMsPer1kDeliveries = round3(ms(cpu) / float64(delivered) * 1000)
	}
	if sessions > 0 {
		s.IdleRSSPerSessionKiB = round3(float64(idle.server.rssKiB-before.rssKiB) / float64(sessions))
	}
	if end, err := readProc(pid); err == nil {
		s.RSSEndKiB, s.PeakRSSKiB = end.rssKiB, end.hwmKiB
	}
	return s
}

// pct is used as a percentage of one core over d.
func pct(used, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return round3(float64(used) / float64(d) * 100)
}

// closeAll ends every session, in parallel, and waits briefly for their
// readers.
func (r *loadRun) closeAll() {
	var wg sync.WaitGroup
	for _, s := range r.sessions {
		wg.Go(func() { s.close(5 * time.Second) })
	}
	wg.Wait()
}
