package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// loginConcurrency is how many key logins run at once when they are
// measured: enough to keep two cores busy, few enough that each source
// address stays far below the server's unauthenticated limit.
const loginConcurrency = 8

// maxErrors bounds the distinct errors a report lists.
const maxErrors = 5

// errorList keeps the first few distinct error messages.
type errorList struct {
	mu   sync.Mutex
	msgs []string
}

func (l *errorList) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	msg := err.Error()
	for _, m := range l.msgs {
		if m == msg {
			return
		}
	}
	if len(l.msgs) < maxErrors {
		l.msgs = append(l.msgs, msg)
	}
}

func (l *errorList) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

// keyLogins does n key logins, loginConcurrency at a time: login i is user
// userOf(i), from a different source address than its neighbours, and
// closes as soon as it has authenticated. It measures what a key login costs
// the server: TCP, key exchange, one signature check, and the teardown.
func keyLogins(ctx context.Context, d *dialer, n int, user func(i int) string, key func(name string) (gossh.Signer, error)) *loginReport {
	var (
		mu    sync.Mutex
		times = make([]time.Duration, 0, n)
		errs  errorList
		wg    sync.WaitGroup
		next  = make(chan int)
	)
	start := time.Now()
	for range min(loginConcurrency, n) {
		wg.Go(func() {
			for i := range next {
				took, err := keyLogin(ctx, d, i, user(i), key)
				mu.Lock()
				if err != nil {
					errs.add(err)
				} else {
					times = append(times, took)
				}
				mu.Unlock()
			}
		})
	}
	feed(ctx, next, n)
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		errs.add(fmt.Errorf("key logins stopped: %w", err))
	}
	return &loginReport{
		Logins:      n,
		Failed:      n - len(times),
		Concurrency: min(loginConcurrency, n),
		Seconds:     round3(elapsed.Seconds()),
		PerSec:      perSec(float64(len(times)), elapsed),
		P50Ms:       ms(exactPercentile(times, 50)),
		P99Ms:       ms(exactPercentile(times, 99)),
		MaxMs:       ms(exactPercentile(times, 100)),
		Errors:      errs.list(),
	}
}

// keyLogin does login i and closes it.
func keyLogin(ctx context.Context, d *dialer, i int, name string, key func(string) (gossh.Signer, error)) (time.Duration, error) {
	signer, err := key(name)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	// Slot i*per puts consecutive logins on consecutive source addresses.
	c, err := d.dial(ctx, i*d.per, name, gossh.PublicKeys(signer))
	if err != nil {
		return 0, err
	}
	took := time.Since(start)
	_ = c.Close()
	return took, nil
}
