package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// setupConcurrency bounds registrations in flight: each costs the server a
// bcrypt run, and the server runs only as many as it has cores.
const setupConcurrency = 4

// setupOutcome is what happened to one user.
type setupOutcome int

const (
	setupFailed     setupOutcome = iota
	setupKeyWorked               // the key logged in: nothing to do
	setupByPassword              // password login (registered or existing), key uploaded
)

// registrationHint explains the usual reason registrations fail.
const registrationHint = "if registrations were refused, start the server with higher " +
	"--limit-registrations-per-source and --limit-registrations-total (defaults: 3 per address per hour, 30 per 10 minutes)"

// runSetup makes users 0..n-1 ready for key logins: users whose key already
// works are skipped; the others log in with the password (registering if
// new) and upload their key. Then every user logs in once by key, which
// checks the result and measures key logins.
func runSetup(ctx context.Context, cfg *config, d *dialer, prog *progress) *setupReport {
	ctx, cancel := context.WithTimeout(ctx, cfg.setupTimeout)
	defer cancel()
	users := cfg.sessions + cfg.stalled + cfg.crowd // the stalled and crowd sessions are users too
	prog.printf("setup: %d users %s … %s, %d at a time", users, cfg.userName(0), cfg.userName(users-1), setupConcurrency)
	var (
		counts [3]atomic.Int64
		errs   errorList
		wg     sync.WaitGroup
		next   = make(chan int)
	)
	start := time.Now()
	for range min(setupConcurrency, users) {
		wg.Go(func() {
			for i := range next {
				out, err := setupUser(ctx, cfg, d, i)
				if err != nil {
					errs.add(fmt.Errorf("%s: %w", cfg.userName(i), err))
				}
				counts[out].Add(1)
			}
		})
	}
	feed(ctx, next, users)
	wg.Wait()
	elapsed := time.Since(start)
	rep := &setupReport{
		Users:          users,
		AlreadySetUp:   int(counts[setupKeyWorked].Load()),
		PasswordLogins: int(counts[setupByPassword].Load()),
		Failed:         users - int(counts[setupKeyWorked].Load()+counts[setupByPassword].Load()),
		Seconds:        round3(elapsed.Seconds()),
		PasswordPerSec: perSec(float64(counts[setupByPassword].Load()), elapsed),
		Errors:         errs.list(),
	}
	if rep.Failed > 0 {
		rep.Errors = append(rep.Errors, registrationHint)
	}
	prog.printf("setup: %d already set up, %d by password, %d failed in %.1f s; checking key logins",
		rep.AlreadySetUp, rep.PasswordLogins, rep.Failed, elapsed.Seconds())
	rep.KeyLogins = keyLogins(ctx, d, users, cfg.userName, cfg.signerFor)
	return rep
}

// feed hands 0..n-1 to workers until done or ctx ends, then closes next.
func feed(ctx context.Context, next chan<- int, n int) {
	defer close(next)
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			return
		}
	}
}

// setupUser logs user i in, offering its key first and then the password;
// if the password was needed, it uploads the key with `keys add`.
// Registrations go out from a different source address per user, so the
// server's per-address registration limit is shared out.
func setupUser(ctx context.Context, cfg *config, d *dialer, i int) (setupOutcome, error) {
	name := cfg.userName(i)
	signer, err := cfg.signerFor(name)
	if err != nil {
		return setupFailed, err
	}
	var usedPassword atomic.Bool
	password := gossh.PasswordCallback(func() (string, error) {
		usedPassword.Store(true)
		return cfg.password, nil
	})
	c, err := d.dial(ctx, i*d.per, name, gossh.PublicKeys(signer), password)
	if err != nil {
		return setupFailed, err
	}
	defer c.Close()
	if !usedPassword.Load() {
		return setupKeyWorked, nil
	}
	if err := addKey(c, authorizedLine(signer, "securechat-load")); err != nil {
		return setupFailed, err
	}
	return setupByPassword, nil
}

// addKey runs `keys add` with line on standard input.
func addKey(c *gossh.Client, line string) error {
	sess, err := c.NewSession()
	if err != nil {
		return fmt.Errorf("keys add: %w", err)
	}
	defer sess.Close()
	var stderr bytes.Buffer
	sess.Stdin = strings.NewReader(line)
	sess.Stderr = &stderr
	if err := sess.Run("keys add"); err != nil {
		return fmt.Errorf("keys add: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
