//go:build race

package accounts

// raceEnabled reports whether the race detector is on; it makes bcrypt
// about sixteen times slower.
const raceEnabled = true
