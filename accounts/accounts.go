package accounts

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/charmbracelet/log"
	"golang.org/x/crypto/bcrypt"
)

// Errors returned by Store methods; compare with errors.Is.
var (
	// ErrUserExists is returned when registering a name that is taken.
	ErrUserExists = errors.New("user exists")
	// ErrNoUser is returned when the named user does not exist.
	ErrNoUser = errors.New("no such user")
	// ErrBadPassword is returned by Verify when the password does not match,
	// including when it is longer than MaxPasswordBytes.
	ErrBadPassword = errors.New("wrong password")
	// ErrKeyTaken is returned by AddKeys when another user holds the key.
	ErrKeyTaken = errors.New("key belongs to another user")
	// ErrNoKey is returned by RemoveKey when the user holds no such key.
	ErrNoKey = errors.New("no such key")
	// ErrNotBanned is returned by Unban when the user has no ban on record.
	ErrNotBanned = errors.New("not banned")
	// ErrInvalid is matched by every error that rejects a username,
	// password, role or key for breaking the rules. The text of such an
	// error is a plain sentence meant for the user; any other error (a
	// failed save, say) is for the operator's log.
	ErrInvalid = errors.New("invalid input")
)

// invalidError is a rule violation: its text is for the user, and it
// matches ErrInvalid without saying so in the text.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// errNoChange tells update that the mutation changed nothing, so there is
// nothing to save and the call succeeds.
var errNoChange = errors.New("no change")

// Role is what a user may do beyond chatting.
type Role string

// Roles.
const (
	// RoleUser is an ordinary user; every new user starts with it.
	RoleUser Role = "user"
	// RoleAdmin may administer the server; granted only by SetRole.
	RoleAdmin Role = "admin"
)

// User is one account as stored in users.json. Values handed out by Store
// are copies: changing them changes nothing in the store.
type User struct {
	// Name is the lower-case username (see Normalize and ValidateUsername).
	Name string `json:"name"`
	// Hash is the bcrypt hash of the password.
	Hash string `json:"bcrypt"`
	// Created is when the account was registered, in UTC.
	Created time.Time `json:"created"`
	// Role is the user's role; empty in a hand-written file means RoleUser.
	Role Role `json:"role,omitempty"`
	// Keys are the user's public keys, in the order they were added.
	Keys []Key `json:"keys,omitempty"`
	// Ban, if not nil, is the user's ban, possibly expired (see ActiveBan).
	Ban *Ban `json:"ban,omitempty"`
	// MutedUntil is when the user's mute ends, in UTC; zero means not muted.
	// A time in the past is an expired mute (see MutedUntil).
	MutedUntil time.Time `json:"muted_until,omitzero"`
	// Prefs are the user's preferences; empty ones are left out of the file.
	Prefs Prefs `json:"prefs,omitzero"`
}

// clone returns u with its own copy of everything it refers to.
func (u User) clone() User {
	u.Keys = slices.Clone(u.Keys)
	if u.Ban != nil {
		b := *u.Ban
		u.Ban = &b
	}
	u.Prefs = u.Prefs.clone()
	return u
}

// DefaultCost is the bcrypt cost used when Options.Cost is zero: a few
// tenths of a second per hash on a current server core, which is what makes
// a stolen users.json slow to crack.
const DefaultCost = 12

// Bounds for Options.Cost. Operators should stay within 10..14 (the flag
// layer enforces that); Open also admits bcrypt.MinCost so tests run fast.
const (
	minCost = bcrypt.MinCost
	maxCost = 14
)

// Options configures Open.
type Options struct {
	// Cost is the bcrypt cost for new hashes; 0 means DefaultCost. The
	// supported range for operators is 10..14; Open accepts 4..14 so tests
	// can use bcrypt.MinCost.
	Cost int
	// Logger receives events (registrations, deletions, failed saves);
	// nil means silent. Passwords and hashes are never logged.
	Logger *log.Logger
	// SaveHook is for tests: it is called at each step of a save with the
	// step name ("write", "sync", "rename", "syncdir"), before that step
	// runs, and a non-nil error aborts the save there.
	SaveHook func(step string) error
	// Now is the clock for creation, key and ban times, and for telling
	// whether a new ban or mute ends in the past; nil means time.Now.
	Now func() time.Time
}

// Store is the set of users, loaded from users.json and written back to it
// on every change. It is safe for concurrent use.
type Store struct {
	path     string
	cost     int
	dummy    []byte // bcrypt hash of a random secret, for Verify on unknown users
	log      *log.Logger
	saveHook func(string) error
	clock    func() time.Time

	// saveMu serializes mutations: each one clones cur, changes the clone,
	// saves it, and only then publishes it. Readers never wait for a disk
	// write and never see a state that is not on disk.
	saveMu sync.Mutex
	onDisk []byte // the bytes last written or read; guarded by saveMu

	mu  sync.RWMutex
	cur *state // replaced, never modified, once published

	// prefsQueue holds UpdatePrefs calls not yet applied: whichever caller
	// gets saveMu first applies them all and saves once (see UpdatePrefs).
	prefsMu    sync.Mutex
	prefsQueue []*prefsReq
}

// state is one version of the user set.
type state struct {
	users map[string]User   // by name
	byKey map[string]string // fingerprint -> name
	// bySource indexes bans that name a Source, expired or not, by that
	// prefix: the sorted names of the users whose ban carries it.
	bySource map[netip.Prefix][]string
}

func newState() *state {
	return &state{users: map[string]User{}, byKey: map[string]string{}, bySource: map[netip.Prefix][]string{}}
}

// clone copies the maps; the User values in them are never modified in
// place (their key slices, bans and preferences are replaced, not changed),
// and neither are the name lists of bySource, so sharing them is safe.
func (st *state) clone() *state {
	return &state{users: maps.Clone(st.users), byKey: maps.Clone(st.byKey), bySource: maps.Clone(st.bySource)}
}

// put adds or replaces u, keeping the indexes in step.
func (st *state) put(u User) {
	if old, ok := st.users[u.Name]; ok {
		for _, k := range old.Keys {
			delete(st.byKey, k.Fingerprint)
		}
		st.unindexSource(old)
	}
	st.users[u.Name] = u
	for _, k := range u.Keys {
		st.byKey[k.Fingerprint] = u.Name
	}
	st.indexSource(u)
}

// remove deletes the user name, its keys and its ban's index entry.
func (st *state) remove(name string) {
	u := st.users[name]
	for _, k := range u.Keys {
		delete(st.byKey, k.Fingerprint)
	}
	st.unindexSource(u)
	delete(st.users, name)
}

// sorted returns the users ordered by name.
func (st *state) sorted() []User {
	list := make([]User, 0, len(st.users))
	for _, u := range st.users {
		list = append(list, u)
	}
	slices.SortFunc(list, func(a, b User) int { return cmp.Compare(a.Name, b.Name) })
	return list
}

func (s *Store) now() time.Time { return s.clock().UTC() }

// update applies fn to a copy of the current state, saves the copy and
// publishes it. If fn or the save fails, nothing changes.
func (s *Store) update(fn func(next *state) error) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	// Only holders of saveMu replace s.cur, so it can be read here unlocked.
	next := s.cur.clone()
	if err := fn(next); err != nil {
		if errors.Is(err, errNoChange) {
			return nil
		}
		return err
	}
	return s.commitLocked(next)
}

// commitLocked saves next and then publishes it. The caller holds saveMu.
func (s *Store) commitLocked(next *state) error {
	data, err := encode(next)
	if err != nil {
		return fmt.Errorf("save users file: %w", err)
	}
	if err := s.save(data); err != nil {
		return fmt.Errorf("save users file: %w", err)
	}
	s.mu.Lock()
	s.cur = next
	s.mu.Unlock()
	return nil
}

// Exists reports whether the user name exists, in any letter case.
func (s *Store) Exists(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.cur.users[Normalize(name)]
	return ok
}

// Get returns a copy of the user name, in any letter case.
func (s *Store) Get(name string) (User, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.cur.users[Normalize(name)]
	return u.clone(), ok
}

// List returns copies of all users, sorted by name.
func (s *Store) List() []User {
	s.mu.RLock()
	list := s.cur.sorted()
	s.mu.RUnlock()
	for i := range list {
		list[i] = list[i].clone()
	}
	return list
}

// Count returns the number of users.
func (s *Store) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.cur.users)
}

// Register creates the user name with the given password and RoleUser. The
// name must pass ValidateUsername and the password CheckNewPassword (errors
// matching ErrInvalid); ErrUserExists if the name is taken in any case.
func (s *Store) Register(name, password string) (User, error) {
	if err := ValidateUsername(name); err != nil {
		return User{}, err
	}
	name = Normalize(name)
	if err := CheckNewPassword(name, password); err != nil {
		return User{}, err
	}
	if s.Exists(name) {
		return User{}, ErrUserExists // spare the bcrypt work
	}
	// Hash before taking any lock: it is slow by design, and one slow
	// registration must not stall every login.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	u := User{Name: name, Hash: string(hash), Created: s.now(), Role: RoleUser}
	err = s.update(func(next *state) error {
		if _, ok := next.users[name]; ok {
			return ErrUserExists // registered while we were hashing
		}
		next.put(u)
		return nil
	})
	if err != nil {
		return User{}, err
	}
	s.log.Info("user registered", "user", name)
	return u.clone(), nil
}

// Verify checks the password of the user name (any letter case) and returns
// a copy of the user. It returns ErrNoUser or ErrBadPassword; a caller
// facing a client should not tell them apart. The time taken does not
// reveal whether the user exists: an unknown name still costs one bcrypt
// comparison, against a hash of the same cost made at Open. A password
// longer than MaxPasswordBytes is refused without hashing it, rather than
// letting bcrypt silently ignore its tail.
func (s *Store) Verify(name, password string) (User, error) {
	s.mu.RLock()
	u, ok := s.cur.users[Normalize(name)]
	s.mu.RUnlock()
	if len(password) > MaxPasswordBytes {
		if !ok {
			return User{}, ErrNoUser
		}
		return User{}, ErrBadPassword
	}
	hash := s.dummy
	if ok {
		hash = []byte(u.Hash)
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	if !ok {
		return User{}, ErrNoUser
	}
	if err != nil {
		if !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			s.log.Error("stored password hash is unusable", "user", u.Name, "err", err)
		}
		return User{}, ErrBadPassword
	}
	return u.clone(), nil
}

// SetPassword replaces the password of the user name. The new password must
// pass CheckNewPassword.
func (s *Store) SetPassword(name, password string) error {
	name = Normalize(name)
	if !s.Exists(name) {
		return ErrNoUser
	}
	if err := CheckNewPassword(name, password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	err = s.update(func(next *state) error {
		u, ok := next.users[name]
		if !ok {
			return ErrNoUser
		}
		u.Hash = string(hash)
		next.put(u)
		return nil
	})
	if err == nil {
		s.log.Info("password changed", "user", name)
	}
	return err
}

// SetRole sets the role of the user name to RoleUser or RoleAdmin.
func (s *Store) SetRole(name string, role Role) error {
	if role != RoleUser && role != RoleAdmin {
		return invalidf("role %q: must be %q or %q", short(string(role)), RoleUser, RoleAdmin)
	}
	name = Normalize(name)
	changed := false
	err := s.updateUser(name, func(u *User) error {
		if u.Role == role {
			return errNoChange
		}
		u.Role = role
		changed = true
		return nil
	})
	if err == nil && changed {
		s.log.Info("role changed", "user", name, "role", string(role))
	}
	return err
}

// updateUser applies fn to a copy of one user and saves the result as update
// does; fn returns errNoChange when there is nothing to save.
func (s *Store) updateUser(name string, fn func(u *User) error) error {
	return s.update(func(next *state) error {
		u, ok := next.users[name]
		if !ok {
			return ErrNoUser
		}
		if err := fn(&u); err != nil {
			return err
		}
		next.put(u)
		return nil
	})
}

// Delete removes the user name and frees its keys.
func (s *Store) Delete(name string) error {
	name = Normalize(name)
	err := s.update(func(next *state) error {
		if _, ok := next.users[name]; !ok {
			return ErrNoUser
		}
		next.remove(name)
		return nil
	})
	if err == nil {
		s.log.Info("user deleted", "user", name)
	}
	return err
}

// discard is the logger used when Options.Logger is nil.
func discard() *log.Logger { return log.New(io.Discard) }
