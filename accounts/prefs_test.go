package accounts

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestUpdatePrefs(t *testing.T) {
	var f faultInjector
	path := filepath.Join(t.TempDir(), "users.json")
	s := openAt(t, path, Options{SaveHook: f.hook})
	register(t, s, "alice")
	errMine := errors.New("changed my mind")
	many := func(n int, format string) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf(format, i))
		}
		return out
	}
	full := Prefs{
		Ignore:     []string{"bob", "carol"},
		Theme:      "dark",
		Timestamps: "24h",
		Bell:       "mentions",
		Rooms:      []string{"general", "dev"},
		LastRead:   map[string]uint64{"general": 41, "dev": 1<<64 - 1},
		Away:       "lunch, back at 2 ☕",
	}

	tests := []struct {
		name      string
		user      string
		fn        func(p *Prefs) error
		wantErr   error
		wantText  string
		wantSaved bool
		want      Prefs // alice's prefs afterwards
	}{
		{"set everything, normalized", "Alice", func(p *Prefs) error {
			*p = full
			p.Ignore = []string{"Carol", "bob", "BOB", "carol"}
			p.Rooms = []string{"general", "dev", "general"}
			return nil
		}, nil, "", true, full},
		{"no change saves nothing", "alice", func(p *Prefs) error {
			p.Ignore = append(p.Ignore, "Bob") // a duplicate once normalized
			return nil
		}, nil, "", false, full},
		{"fn error saves nothing", "alice", func(p *Prefs) error {
			p.Theme = "light"
			return errMine
		}, errMine, "", false, full},
		{"invalid ignore name", "alice", func(p *Prefs) error {
			p.Theme = "light"
			p.Ignore = append(p.Ignore, "bad name")
			return nil
		}, ErrInvalid, `ignore list: username "bad name"`, false, full},
		{"201 ignores", "alice", func(p *Prefs) error {
			p.Ignore = many(201, "user%03d")
			return nil
		}, ErrInvalid, "at most 200 names", false, full},
		{"51 rooms", "alice", func(p *Prefs) error {
			p.Rooms = many(51, "room%d")
			return nil
		}, ErrInvalid, "too many rooms", false, full},
		{"101 read positions", "alice", func(p *Prefs) error {
			for i := range 101 {
				p.LastRead[fmt.Sprintf("room%d", i)] = uint64(i)
			}
			return nil
		}, ErrInvalid, "at most 100", false, full},
		{"room with a tab", "alice", func(p *Prefs) error {
			p.Rooms = append(p.Rooms, "a\tb")
			return nil
		}, ErrInvalid, "room name", false, full},
		{"theme too long", "alice", func(p *Prefs) error {
			p.Theme = strings.Repeat("t", MaxPrefBytes+1)
			return nil
		}, ErrInvalid, "theme is too long", false, full},
		{"bell with escape", "alice", func(p *Prefs) error {
			p.Bell = "\x07"
			return nil
		}, ErrInvalid, "bell setting: control characters", false, full},
		{"away too long", "alice", func(p *Prefs) error {
			p.Away = strings.Repeat("a", MaxAwayBytes+1)
			return nil
		}, ErrInvalid, "away message is too long", false, full},
		{"unknown user", "bob", func(p *Prefs) error {
			t.Error("fn called for an unknown user")
			return nil
		}, ErrNoUser, "", false, full},
		{"at the limits", "alice", func(p *Prefs) error {
			p.Ignore = many(200, "user%03d")
			p.Rooms = many(50, "room%d")
			p.LastRead = map[string]uint64{}
			for i := range 100 {
				p.LastRead[fmt.Sprintf("room%d", i)] = uint64(i)
			}
			return nil
		}, nil, "", true, func() Prefs {
			p := full.clone()
			p.Ignore, p.Rooms, p.LastRead = many(200, "user%03d"), many(50, "room%d"), map[string]uint64{}
			for i := range 100 {
				p.LastRead[fmt.Sprintf("room%d", i)] = uint64(i)
			}
			return p
		}()},
		{"clear", "alice", func(p *Prefs) error {
			*p = Prefs{Ignore: []string{}, Rooms: []string{}, LastRead: map[string]uint64{}}
			return nil
		}, nil, "", true, Prefs{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := readFile(t, path)
			f.arm("")
			err := s.UpdatePrefs(tt.user, tt.fn)
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), tt.wantText)) {
				t.Fatalf("UpdatePrefs = %v, want %v containing %q", err, tt.wantErr, tt.wantText)
			}
			if saved := len(f.steps()) > 0; saved != tt.wantSaved {
				t.Errorf("saved = %v, want %v", saved, tt.wantSaved)
			}
			if !tt.wantSaved && string(readFile(t, path)) != string(before) {
				t.Error("file changed")
			}
			got, _ := s.Prefs("alice")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("prefs = %+v, want %+v", got, tt.want)
			}
			if again, _ := openAt(t, path, Options{}).Prefs("alice"); !reflect.DeepEqual(again, tt.want) {
				t.Errorf("prefs after reopen = %+v, want %+v", again, tt.want)
			}
		})
	}
	if strings.Contains(string(readFile(t, path)), `"prefs"`) {
		t.Errorf("cleared prefs left in the file:\n%s", readFile(t, path))
	}
	if _, ok := s.Prefs("nobody"); ok {
		t.Error("Prefs of an unknown user")
	}
}

// TestUpdatePrefsKeepsNoReference: slices fn hands in or keeps hold of must
// not become the store's.
func TestUpdatePrefsKeepsNoReference(t *testing.T) {
	s, _ := newStore(t)
	register(t, s, "alice")
	mine := []string{"Zed", "bob"}
	var kept *Prefs
	var keptRooms []string
	if err := s.UpdatePrefs("alice", func(p *Prefs) error {
		p.Ignore = mine
		p.Rooms = []string{"general"}
		kept, keptRooms = p, p.Rooms
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mine, []string{"Zed", "bob"}) {
		t.Errorf("UpdatePrefs changed the caller's slice: %v", mine)
	}
	kept.Ignore[0] = "changed"
	keptRooms[0] = "changed"
	if p, _ := s.Prefs("alice"); !reflect.DeepEqual(p.Ignore, []string{"bob", "zed"}) || p.Rooms[0] != "general" {
		t.Errorf("store changed through references fn kept: %+v", p)
	}
}

// TestConcurrentPrefsAndRegister runs registrations and preference updates
// side by side (run it with -race): every update lands, none is lost to a
// concurrent save, and memory and disk agree at the end.
func TestConcurrentPrefsAndRegister(t *testing.T) {
	s, path := newStore(t)
	register(t, s, "alice")
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			if _, err := s.Register(fmt.Sprintf("user%02d", i), testPassword); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			err := s.UpdatePrefs("alice", func(p *Prefs) error {
				p.Ignore = append(p.Ignore, fmt.Sprintf("user%02d", i))
				if p.LastRead == nil {
					p.LastRead = map[string]uint64{}
				}
				p.LastRead["general"]++
				return nil
			})
			if err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if p, ok := s.Prefs("alice"); !ok || len(p.Ignore) > n {
				errs <- fmt.Errorf("Prefs = %+v, %v", p, ok)
			}
			s.List()
			s.Get("alice")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	p, _ := s.Prefs("alice")
	if len(p.Ignore) != n || p.LastRead["general"] != n {
		t.Errorf("lost updates: %d ignores, read position %d; want %d", len(p.Ignore), p.LastRead["general"], n)
	}
	s2 := openAt(t, path, Options{})
	if s2.Count() != n+1 || !reflect.DeepEqual(s2.List(), s.List()) {
		t.Errorf("memory and disk differ: %d users on disk", s2.Count())
	}
}

// Updates that arrive while the users file is being written share the
// next write, and each caller still gets its own result.
func TestUpdatePrefsShareOneSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	var armed atomic.Bool
	var saves atomic.Int32
	first := make(chan struct{})
	release := make(chan struct{})
	s := openAt(t, path, Options{SaveHook: func(step string) error {
		if step == "write" && armed.Load() && saves.Add(1) == 1 {
			close(first) // the first update is being saved
			<-release
		}
		return nil
	}})
	users := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"}
	for _, u := range users {
		register(t, s, u)
	}
	armed.Store(true)
	errMine := errors.New("changed my mind")
	results := make(chan error, len(users)+2)
	go func() {
		results <- s.UpdatePrefs("u0", func(p *Prefs) error { p.Away = "first"; return nil })
	}()
	<-first
	for i, u := range users[1:] {
		go func() {
			results <- s.UpdatePrefs(u, func(p *Prefs) error { p.Away = fmt.Sprintf("away %d", i+1); return nil })
		}()
	}
	go func() { results <- s.UpdatePrefs("nobody", func(p *Prefs) error { return nil }) }()
	go func() {
		results <- s.UpdatePrefs("u1", func(p *Prefs) error { p.Theme = "light"; return errMine })
	}()
	for {
		s.prefsMu.Lock()
		n := len(s.prefsQueue)
		s.prefsMu.Unlock()
		if n == len(users)+1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	var ok, noUser, mine int
	for range len(users) + 2 {
		switch err := <-results; {
		case err == nil:
			ok++
		case errors.Is(err, ErrNoUser):
			noUser++
		case errors.Is(err, errMine):
			mine++
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok != len(users) || noUser != 1 || mine != 1 {
		t.Fatalf("results: %d ok, %d no user, %d fn errors", ok, noUser, mine)
	}
	if n := saves.Load(); n != 2 {
		t.Fatalf("%d saves for %d updates, want 2 (the first, then the rest together)", n, len(users)+2)
	}
	reopened := openAt(t, path, Options{})
	for i, u := range users {
		p, _ := reopened.Prefs(u)
		want := fmt.Sprintf("away %d", i)
		if i == 0 {
			want = "first"
		}
		if p.Away != want || p.Theme != "" {
			t.Fatalf("%s after reopening: away %q theme %q, want away %q and no theme", u, p.Away, p.Theme, want)
		}
	}
}
