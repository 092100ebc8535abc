package accounts

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// t0 is the injected "now" of the moderation tests.
var t0 = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)

// testClock is an injectable clock the test can move.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// clockStore opens a fresh store whose clock starts at t0.
func clockStore(t *testing.T, opts Options) (*Store, string, *testClock) {
	t.Helper()
	c := &testClock{now: t0}
	opts.Now = c.Now
	path := filepath.Join(t.TempDir(), "users.json")
	return openAt(t, path, opts), path, c
}

func TestSetBan(t *testing.T) {
	s, path, _ := clockStore(t, Options{})
	register(t, s, "alice")
	register(t, s, "bob")
	at := time.Date(2025, 4, 1, 10, 0, 0, 0, time.FixedZone("X", 7200))

	tests := []struct {
		name     string
		user     string
		ban      Ban
		wantErr  error
		wantText string
		want     Ban // the ban stored, when wantErr is nil
	}{
		{"permanent", "Alice", Ban{By: "Bob", Reason: "spam"}, nil, "",
			Ban{By: "bob", Reason: "spam", At: t0}},
		{"timed with source and given time", "bob", Ban{By: "alice", Until: t0.Add(time.Hour).In(at.Location()), At: at, Source: "127.0.0.2/32"}, nil, "",
			Ban{By: "alice", Until: t0.Add(time.Hour), At: at.UTC(), Source: "127.0.0.2/32"}},
		{"replaces", "alice", Ban{By: "bob", Source: "2001:db8::/64"}, nil, "",
			Ban{By: "bob", At: t0, Source: "2001:db8::/64"}},
		{"reason of 200 bytes", "alice", Ban{By: "bob", Reason: strings.Repeat("é", 100)}, nil, "",
			Ban{By: "bob", At: t0, Reason: strings.Repeat("é", 100)}},
		{"unknown user", "carol", Ban{By: "alice"}, ErrNoUser, "", Ban{}},
		{"no by", "alice", Ban{Reason: "x"}, ErrInvalid, `"by" must name who banned`, Ban{}},
		{"invalid by", "alice", Ban{By: "a b"}, ErrInvalid, `"by" must name who banned`, Ban{}},
		{"reason too long", "alice", Ban{By: "bob", Reason: strings.Repeat("x", 201)}, ErrInvalid, "ban reason is too long", Ban{}},
		{"escape in reason", "alice", Ban{By: "bob", Reason: "a\x1b[31mb"}, ErrInvalid, "control characters", Ban{}},
		{"newline in reason", "alice", Ban{By: "bob", Reason: "a\nb"}, ErrInvalid, "control characters", Ban{}},
		{"C1 control in reason", "alice", Ban{By: "bob", Reason: "a\u009bb"}, ErrInvalid, "control characters", Ban{}},
		{"invalid UTF-8 in reason", "alice", Ban{By: "bob", Reason: "a\xffb"}, ErrInvalid, "invalid text", Ban{}},
		{"ends in the past", "alice", Ban{By: "bob", Until: t0.Add(-time.Second)}, ErrInvalid, "not in the future", Ban{}},
		{"ends now", "alice", Ban{By: "bob", Until: t0}, ErrInvalid, "not in the future", Ban{}},
		{"ends in year 10000", "alice", Ban{By: "bob", Until: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrInvalid, "out of range", Ban{}},
		{"source not a prefix", "alice", Ban{By: "bob", Source: "nonsense"}, ErrInvalid, "not an address prefix", Ban{}},
		{"source a bare address", "alice", Ban{By: "bob", Source: "127.0.0.2"}, ErrInvalid, "not an address prefix", Ban{}},
		{"source not masked", "alice", Ban{By: "bob", Source: "10.0.0.1/8"}, ErrInvalid, "write it as 10.0.0.0/8", Ban{}},
		{"source not canonical", "alice", Ban{By: "bob", Source: "2001:DB8:0::/64"}, ErrInvalid, "write it as 2001:db8::/64", Ban{}},
		{"source with zone", "alice", Ban{By: "bob", Source: "fe80::1%eth0/128"}, ErrInvalid, "not an address prefix", Ban{}},
		{"source IPv4-mapped", "alice", Ban{By: "bob", Source: "::ffff:127.0.0.2/128"}, ErrInvalid, "IPv4-mapped", Ban{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := readFile(t, path)
			beforeBan, _ := s.Get(tt.user)
			err := s.SetBan(tt.user, tt.ban)
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), tt.wantText)) {
				t.Fatalf("SetBan = %v, want %v containing %q", err, tt.wantErr, tt.wantText)
			}
			if err != nil {
				if after := readFile(t, path); string(after) != string(before) {
					t.Errorf("a refused ban changed the file")
				}
				if u, _ := s.Get(tt.user); !reflect.DeepEqual(u, beforeBan) {
					t.Errorf("a refused ban changed the user: %+v", u)
				}
				return
			}
			got, ok := s.ActiveBan(tt.user, t0)
			if !ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ActiveBan = %+v, %v; want %+v", got, ok, tt.want)
			}
			if u, _ := openAt(t, path, Options{}).Get(tt.user); !reflect.DeepEqual(*u.Ban, tt.want) {
				t.Errorf("after reopen the ban is %+v, want %+v", *u.Ban, tt.want)
			}
		})
	}
}

func TestBanExpiryAndUnban(t *testing.T) {
	s, path, _ := clockStore(t, Options{})
	register(t, s, "alice")
	register(t, s, "bob")
	until := t0.Add(time.Hour)
	if err := s.SetBan("bob", Ban{By: "alice", Until: until, Reason: "flood"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		user   string
		now    time.Time
		active bool
	}{
		{"just imposed", "bob", t0, true},
		{"before it was imposed", "bob", t0.Add(-time.Hour), true},
		{"a nanosecond before the end", "bob", until.Add(-1), true},
		{"at the end", "bob", until, false},
		{"long after", "bob", until.AddDate(1, 0, 0), false},
		{"other case", "BOB", t0, true},
		{"not banned", "alice", t0, false},
		{"unknown user", "carol", t0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := s.ActiveBan(tt.user, tt.now)
			if ok != tt.active || (ok && b.Reason != "flood") || (!ok && b != Ban{}) {
				t.Errorf("ActiveBan(%q, %v) = %+v, %v; want active=%v", tt.user, tt.now, b, ok, tt.active)
			}
		})
	}

	// An ended ban stays on record, and in the file, until lifted.
	if u, _ := openAt(t, path, Options{}).Get("bob"); u.Ban == nil || !u.Ban.Until.Equal(until) {
		t.Errorf("ban record after reopen = %+v", u.Ban)
	}
	if err := s.Unban("BOB"); err != nil {
		t.Fatalf("Unban of an ended ban: %v", err)
	}
	if u, _ := s.Get("bob"); u.Ban != nil {
		t.Errorf("ban still on record after Unban: %+v", u.Ban)
	}
	if strings.Contains(string(readFile(t, path)), `"ban"`) {
		t.Errorf("file still holds a ban:\n%s", readFile(t, path))
	}
	for _, tt := range []struct {
		user string
		want error
	}{{"bob", ErrNotBanned}, {"alice", ErrNotBanned}, {"carol", ErrNoUser}} {
		if err := s.Unban(tt.user); !errors.Is(err, tt.want) {
			t.Errorf("Unban(%q) = %v, want %v", tt.user, err, tt.want)
		}
	}

	// Lifting an active ban.
	if err := s.SetBan("alice", Ban{By: "bob", Source: "127.0.0.9/32"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Unban("alice"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.ActiveBan("alice", t0); ok {
		t.Error("alice still banned after Unban")
	}
	if _, _, ok := s.BannedSource(netip.MustParsePrefix("127.0.0.9/32"), t0); ok {
		t.Error("alice's source still banned after Unban")
	}
}

func TestBannedSource(t *testing.T) {
	s, path, _ := clockStore(t, Options{})
	for _, n := range []string{"admin", "alice", "bob", "carol", "dave", "erin", "frank", "gina"} {
		register(t, s, n)
	}
	bans := []struct {
		user   string
		source string
		until  time.Time
	}{
		{"alice", "127.0.0.2/32", time.Time{}},
		{"bob", "2001:db8::/64", t0.Add(time.Hour)},
		{"carol", "10.0.0.0/8", time.Time{}},
		{"dave", "10.1.0.0/16", time.Time{}},
		{"frank", "192.0.2.0/24", time.Time{}},
		{"erin", "192.0.2.0/24", t0.Add(time.Minute)},
		{"gina", "", time.Time{}},
	}
	for _, b := range bans {
		if err := s.SetBan(b.user, Ban{By: "admin", Until: b.until, Source: b.source}); err != nil {
			t.Fatalf("SetBan(%s): %v", b.user, err)
		}
	}
	type query struct {
		src  string // "" for the zero Prefix
		now  time.Time
		want string // "" for no ban
	}
	queries := []query{
		{"127.0.0.2/32", t0, "alice"},
		{"127.0.0.2/32", t0.AddDate(100, 0, 0), "alice"},
		{"127.0.0.3/32", t0, ""},
		{"127.0.0.0/24", t0, ""},
		{"::ffff:127.0.0.2/128", t0, "alice"},
		{"2001:db8::/64", t0, "bob"},
		{"2001:db8::5/128", t0, "bob"},
		{"2001:db8:0:1::/64", t0, ""},
		{"2001:db8::/64", t0.Add(time.Hour), ""},
		{"10.1.2.3/32", t0, "dave"},
		{"10.1.0.0/16", t0, "dave"},
		{"10.2.0.1/32", t0, "carol"},
		{"10.0.0.0/7", t0, ""},
		{"192.0.2.7/32", t0, "erin"},
		{"192.0.2.7/32", t0.Add(time.Minute), "frank"},
		{"198.51.100.1/32", t0, ""},
		{"", t0, ""},
	}
	check := func(t *testing.T, s *Store, qs []query) {
		t.Helper()
		for _, q := range qs {
			var src netip.Prefix
			if q.src != "" {
				src = netip.MustParsePrefix(q.src)
			}
			name, b, ok := s.BannedSource(src, q.now)
			if name != q.want || ok != (q.want != "") {
				t.Errorf("BannedSource(%s, %v) = %q, %v; want %q", q.src, q.now, name, ok, q.want)
				continue
			}
			if ok {
				if active, _ := s.ActiveBan(name, q.now); !reflect.DeepEqual(active, b) {
					t.Errorf("BannedSource(%s) ban %+v is not %s's active ban %+v", q.src, b, name, active)
				}
			}
		}
	}
	t.Run("after SetBan", func(t *testing.T) { check(t, s, queries) })
	t.Run("after reopen", func(t *testing.T) { check(t, openAt(t, path, Options{}), queries) })

	// The index follows every change.
	if err := s.Unban("alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBan("dave", Ban{By: "admin"}); err != nil { // a new ban without a source
		t.Fatal(err)
	}
	if err := s.SetBan("frank", Ban{By: "admin", Source: "198.51.100.0/24"}); err != nil { // moved
		t.Fatal(err)
	}
	if err := s.Delete("bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRole("carol", RoleAdmin); err != nil { // an unrelated change keeps the ban
		t.Fatal(err)
	}
	later := []query{
		{"127.0.0.2/32", t0, ""},
		{"2001:db8::/64", t0, ""},
		{"10.1.2.3/32", t0, "carol"},
		{"192.0.2.7/32", t0, "erin"},
		{"192.0.2.7/32", t0.Add(time.Minute), ""},
		{"198.51.100.1/32", t0, "frank"},
	}
	t.Run("after changes", func(t *testing.T) { check(t, s, later) })
	t.Run("after changes and reopen", func(t *testing.T) { check(t, openAt(t, path, Options{}), later) })
	if err := s.Delete("carol"); err != nil {
		t.Fatal(err)
	}
	check(t, s, []query{{"10.1.2.3/32", t0, ""}})
	if n := len(s.cur.bySource); n != 2 {
		t.Errorf("source index holds %d prefixes, want 2 (erin's and frank's): %v", n, s.cur.bySource)
	}
}

func TestBans(t *testing.T) {
	s, _, _ := clockStore(t, Options{})
	for _, n := range []string{"zed", "amy", "bob", "cat"} {
		register(t, s, n)
	}
	for _, b := range []struct {
		user  string
		until time.Time
	}{{"zed", time.Time{}}, {"bob", t0.Add(time.Hour)}, {"amy", t0.Add(time.Minute)}} {
		if err := s.SetBan(b.user, Ban{By: "cat", Until: b.until}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		now  time.Time
		want []string
	}{
		{t0, []string{"amy", "bob", "zed"}},
		{t0.Add(time.Minute), []string{"bob", "zed"}},
		{t0.Add(time.Hour), []string{"zed"}},
	}
	for _, tt := range tests {
		t.Run(tt.now.Format(time.Kitchen), func(t *testing.T) {
			var names []string
			for _, u := range s.Bans(tt.now) {
				names = append(names, u.Name)
				if u.Ban == nil {
					t.Errorf("%s listed without a ban", u.Name)
				}
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Errorf("Bans = %v, want %v", names, tt.want)
			}
		})
	}
	// Copies: changing a listed ban changes nothing.
	s.Bans(t0)[0].Ban.Reason = "changed"
	if b, _ := s.ActiveBan("amy", t0); b.Reason != "" {
		t.Error("store changed through Bans")
	}
}

func TestMute(t *testing.T) {
	var f faultInjector
	s, path, clock := clockStore(t, Options{SaveHook: f.hook})
	register(t, s, "alice")
	register(t, s, "bob")
	tests := []struct {
		name      string
		clock     time.Time // the store's clock during SetMute
		user      string
		until     time.Time
		wantErr   error
		wantSaved bool
		query     time.Time
		wantUntil time.Time // zero: not muted at query
	}{
		{"mute", t0, "Bob", t0.Add(10 * time.Minute), nil, true, t0, t0.Add(10 * time.Minute)},
		{"still muted", t0, "bob", t0.Add(10 * time.Minute), nil, false, t0.Add(10*time.Minute - 1), t0.Add(10 * time.Minute)},
		{"ended", t0, "bob", t0.Add(10 * time.Minute), nil, false, t0.Add(10 * time.Minute), time.Time{}},
		{"extend in another zone", t0, "bob", t0.Add(time.Hour).In(time.FixedZone("Y", -3600)), nil, true, t0.Add(30 * time.Minute), t0.Add(time.Hour)},
		{"unmute with a past time", t0.Add(time.Minute), "bob", t0, nil, true, t0.Add(2 * time.Minute), time.Time{}},
		{"unmute again saves nothing", t0.Add(time.Minute), "bob", time.Time{}, nil, false, t0, time.Time{}},
		{"unknown user", t0, "carol", t0.Add(time.Hour), ErrNoUser, false, t0, time.Time{}},
		{"year 10000", t0, "bob", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), ErrInvalid, false, t0, time.Time{}},
		{"not muted", t0, "alice", time.Time{}, nil, false, t0, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Set(tt.clock)
			f.arm("")
			if err := s.SetMute(tt.user, tt.until); !errors.Is(err, tt.wantErr) {
				t.Fatalf("SetMute = %v, want %v", err, tt.wantErr)
			}
			if saved := len(f.steps()) > 0; saved != tt.wantSaved {
				t.Errorf("saved = %v, want %v", saved, tt.wantSaved)
			}
			got, ok := s.MutedUntil(tt.user, tt.query)
			if ok != !tt.wantUntil.IsZero() || !got.Equal(tt.wantUntil) {
				t.Errorf("MutedUntil(%v) = %v, %v; want %v", tt.query, got, ok, tt.wantUntil)
			}
		})
	}
	if strings.Contains(string(readFile(t, path)), "muted_until") {
		t.Errorf("lifted mute left in the file:\n%s", readFile(t, path))
	}

	// An ended mute stays on record until lifted, and survives a reopen.
	clock.Set(t0)
	if err := s.SetMute("alice", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	s2 := openAt(t, path, Options{})
	if u, ok := s2.MutedUntil("alice", t0); !ok || !u.Equal(t0.Add(time.Minute)) {
		t.Errorf("after reopen MutedUntil = %v, %v", u, ok)
	}
	if _, ok := s2.MutedUntil("alice", t0.Add(time.Hour)); ok {
		t.Error("mute did not end")
	}
	if u, _ := s2.Get("alice"); !u.MutedUntil.Equal(t0.Add(time.Minute)) {
		t.Errorf("ended mute not on record: %v", u.MutedUntil)
	}
}

// TestModerationSaveFault fails each moderation and preference change at
// each step of its save: the file, the users and the source index must be
// exactly as before, and no temporary file may be left.
func TestModerationSaveFault(t *testing.T) {
	changes := []struct {
		name string
		do   func(s *Store) error
	}{
		{"new ban with source", func(s *Store) error {
			return s.SetBan("alice", Ban{By: "bob", Source: "127.0.0.5/32", Reason: "x"})
		}},
		{"replace ban moving its source", func(s *Store) error {
			return s.SetBan("bob", Ban{By: "alice", Source: "10.9.0.0/16"})
		}},
		{"unban", func(s *Store) error { return s.Unban("bob") }},
		{"delete banned user", func(s *Store) error { return s.Delete("bob") }},
		{"mute", func(s *Store) error { return s.SetMute("alice", t0.Add(time.Hour)) }},
		{"update prefs", func(s *Store) error {
			return s.UpdatePrefs("bob", func(p *Prefs) error {
				p.Ignore = append(p.Ignore, "alice")
				p.LastRead = map[string]uint64{"general": 7}
				return nil
			})
		}},
		{"clear prefs", func(s *Store) error {
			return s.UpdatePrefs("bob", func(p *Prefs) error { *p = Prefs{}; return nil })
		}},
	}
	probes := []string{"127.0.0.5/32", "2001:db8::1/128", "10.9.1.1/32"}
	for _, step := range saveSteps {
		for _, ch := range changes {
			t.Run(step+"/"+ch.name, func(t *testing.T) {
				var f faultInjector
				s, path, _ := clockStore(t, Options{SaveHook: f.hook})
				register(t, s, "alice")
				register(t, s, "bob")
				if err := s.SetBan("bob", Ban{By: "alice", Source: "2001:db8::/64"}); err != nil {
					t.Fatal(err)
				}
				if err := s.UpdatePrefs("bob", func(p *Prefs) error { p.Theme = "dark"; p.Rooms = []string{"general"}; return nil }); err != nil {
					t.Fatal(err)
				}
				before := readFile(t, path)
				beforeList := s.List()
				sources := func() []string {
					var out []string
					for _, p := range probes {
						n, _, _ := s.BannedSource(netip.MustParsePrefix(p), t0)
						out = append(out, n)
					}
					return out
				}
				beforeSources := sources()

				f.arm(step)
				if err := ch.do(s); !errors.Is(err, errInjected) {
					t.Fatalf("error = %v, want the injected fault", err)
				}
				if after := readFile(t, path); string(after) != string(before) {
					t.Errorf("file changed by a failed save:\n got %s\nwant %s", after, before)
				}
				if got := s.List(); !reflect.DeepEqual(got, beforeList) {
					t.Errorf("memory not rolled back:\n got %+v\nwant %+v", got, beforeList)
				}
				if got := sources(); !reflect.DeepEqual(got, beforeSources) {
					t.Errorf("source index not rolled back: %v, want %v", got, beforeSources)
				}
				if names := dirNames(t, filepath.Dir(path)); !reflect.DeepEqual(names, []string{"users.json"}) {
					t.Errorf("folder holds %v, want only users.json", names)
				}

				f.arm("")
				if err := ch.do(s); err != nil {
					t.Fatalf("retry after the fault: %v", err)
				}
				s2 := openAt(t, path, Options{})
				if !reflect.DeepEqual(s2.List(), s.List()) {
					t.Error("memory and disk differ after the retried change")
				}
			})
		}
	}
}

func TestOpenRejectsBadModeration(t *testing.T) {
	hash := testHash(t)
	with := func(extra string) string {
		return fmt.Sprintf(`{"users": [{"name": "alice", "bcrypt": %q, "created": "2025-01-01T00:00:00Z"}, {"name": "bob", "bcrypt": %q, "created": "2025-01-01T00:00:00Z", %s}]}`,
			hash, hash, extra)
	}
	names := func(n int, f string) string {
		var list []string
		for i := range n {
			list = append(list, fmt.Sprintf(f, i))
		}
		out, _ := json.Marshal(list)
		return string(out)
	}
	lastRead := func(n int) string {
		m := map[string]int{}
		for i := range n {
			m[fmt.Sprintf("room%d", i)] = i
		}
		out, _ := json.Marshal(m)
		return string(out)
	}
	tests := []struct {
		name    string
		extra   string
		wantErr string
	}{
		{"ban source not a prefix", `"ban": {"by": "alice", "source": "localhost"}`, `"localhost": not an address prefix`},
		{"ban source not masked", `"ban": {"by": "alice", "source": "10.0.0.1/8"}`, "write it as 10.0.0.0/8"},
		{"ban source IPv4-mapped", `"ban": {"by": "alice", "source": "::ffff:10.0.0.1/128"}`, "IPv4-mapped"},
		{"ban without by", `"ban": {"reason": "spam"}`, `"by" must name who banned`},
		{"ban reason with escape", `"ban": {"by": "alice", "reason": "\u001b[2J"}`, "control characters"},
		{"ban reason too long", `"ban": {"by": "alice", "reason": "` + strings.Repeat("x", 201) + `"}`, "too long"},
		{"ban until out of range", `"ban": {"by": "alice", "until": "0000-01-01T00:00:00+01:00"}`, "out of range"},
		{"ban until not a time", `"ban": {"by": "alice", "until": "soon"}`, "parsing time"},
		{"mute out of range", `"muted_until": "9999-12-31T23:59:59-01:00"`, "mute end is out of range"},
		{"ignore too long", `"prefs": {"ignore": ` + names(201, "u%d") + `}`, "ignore list is too long"},
		{"ignore invalid name", `"prefs": {"ignore": ["carol", "no way"]}`, `ignore list: username "no way"`},
		{"ignore empty name", `"prefs": {"ignore": [""]}`, "ignore list: username is empty"},
		{"too many rooms", `"prefs": {"rooms": ` + names(51, "r%d") + `}`, "too many rooms"},
		{"room with a space", `"prefs": {"rooms": ["a b"]}`, "spaces are not allowed"},
		{"empty room", `"prefs": {"rooms": [""]}`, "room name is empty"},
		{"last read too many", `"prefs": {"last_read": ` + lastRead(101) + `}`, "too many rooms"},
		{"last read bad room", `"prefs": {"last_read": {"a\u0000": 1}}`, "control characters"},
		{"last read negative", `"prefs": {"last_read": {"general": -1}}`, "cannot unmarshal"},
		{"theme too long", `"prefs": {"theme": "` + strings.Repeat("t", 33) + `"}`, "theme is too long"},
		{"away with newline", `"prefs": {"away": "a\nb"}`, "away message: control characters"},
		{"prefs not an object", `"prefs": []`, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			contents := with(tt.extra)
			dir := t.TempDir()
			path := filepath.Join(dir, "users.json")
			if err := os.WriteFile(path, []byte(contents), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path, Options{Cost: 4})
			if err == nil {
				t.Fatalf("Open succeeded, want error containing %q", tt.wantErr)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || !strings.Contains(msg, tt.wantErr) {
				t.Errorf("Open error = %q, want it to name %s and contain %q", msg, path, tt.wantErr)
			}
			if !strings.Contains(tt.wantErr, "cannot unmarshal") && !strings.Contains(tt.wantErr, "parsing time") &&
				!strings.Contains(msg, `user "bob"`) {
				t.Errorf("Open error = %q does not name the user", msg)
			}
			if got := readFile(t, path); string(got) != contents {
				t.Error("Open changed the file")
			}
			if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{"users.json"}) {
				t.Errorf("folder holds %v, want only users.json", names)
			}
		})
	}
}

// oldUser is User as it was before bans, mutes and preferences, to write
// files exactly as earlier versions did.
type oldUser struct {
	Name    string    `json:"name"`
	Hash    string    `json:"bcrypt"`
	Created time.Time `json:"created"`
	Role    Role      `json:"role,omitempty"`
	Keys    []Key     `json:"keys,omitempty"`
}

// TestOldFileUnchanged: a users.json written before these fields existed
// loads, is not rewritten by Open, and is written back byte for byte the same
// by a save that changes nothing in it.
func TestOldFileUnchanged(t *testing.T) {
	hash := testHash(t)
	key := newSSHKey(t, "laptop")
	key.Added = t0
	old := struct {
		Users []oldUser `json:"users"`
	}{[]oldUser{
		{Name: "alice", Hash: hash, Created: t0, Role: RoleAdmin},
		{Name: "bob", Hash: hash, Created: t0, Role: RoleUser, Keys: []Key{key}},
	}}
	data, err := json.MarshalIndent(old, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	path := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s := openAt(t, path, Options{})
	if got := readFile(t, path); string(got) != string(data) {
		t.Fatalf("Open rewrote an old file:\n got %s\nwant %s", got, data)
	}
	for _, n := range []string{"alice", "bob"} {
		u, _ := s.Get(n)
		if u.Ban != nil || !u.MutedUntil.IsZero() || !u.Prefs.IsZero() {
			t.Errorf("%s has moderation state or prefs: %+v", n, u)
		}
	}
	if err := s.update(func(*state) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); string(got) != string(data) {
		t.Errorf("a save changed how old users are written:\n got %s\nwant %s", got, data)
	}
	// Setting and then clearing everything leaves the old shape too.
	if err := s.SetBan("bob", Ban{By: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMute("bob", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdatePrefs("bob", func(p *Prefs) error { p.Theme = "x"; p.LastRead = map[string]uint64{"a": 1}; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Unban("bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMute("bob", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdatePrefs("bob", func(p *Prefs) error { p.Theme = ""; clear(p.LastRead); return nil }); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); string(got) != string(data) {
		t.Errorf("set and clear changed the file:\n got %s\nwant %s", got, data)
	}
}

func TestModerationCopies(t *testing.T) {
	s, _, _ := clockStore(t, Options{})
	register(t, s, "alice")
	if err := s.SetBan("alice", Ban{By: "alice", Reason: "r", Source: "127.0.0.1/32"}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdatePrefs("alice", func(p *Prefs) error {
		p.Ignore, p.Rooms, p.LastRead = []string{"bob"}, []string{"general"}, map[string]uint64{"general": 1}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mangle := func(u User) {
		u.Ban.Reason = "changed"
		u.Prefs.Ignore[0] = "zed"
		u.Prefs.Rooms[0] = "x"
		u.Prefs.LastRead["general"] = 99
	}
	u, _ := s.Get("alice")
	mangle(u)
	mangle(s.List()[0])
	v, _ := s.Verify("alice", testPassword)
	mangle(v)
	p, _ := s.Prefs("alice")
	p.Ignore[0], p.Rooms[0], p.LastRead["general"] = "zed", "x", 99
	_, b, _ := s.BannedSource(netip.MustParsePrefix("127.0.0.1/32"), t0)
	b.Reason = "changed"
	ab, _ := s.ActiveBan("alice", t0)
	ab.Reason = "changed"

	got, _ := s.Get("alice")
	want := Prefs{Ignore: []string{"bob"}, Rooms: []string{"general"}, LastRead: map[string]uint64{"general": 1}}
	if got.Ban.Reason != "r" || !reflect.DeepEqual(got.Prefs, want) {
		t.Errorf("store changed through a returned copy: %+v %+v", got.Ban, got.Prefs)
	}
}
