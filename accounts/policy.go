package accounts

import (
	"strings"

	"github.com/ccojocar/zxcvbn-go"
)

// DefaultMinPasswordScore is the lowest zxcvbn strength (0 to 4) a new
// password needs unless the operator chooses another.
const DefaultMinPasswordScore = 3

// CheckPassword is the whole policy for a new password of the user name,
// wherever it is set (registration over SSH, an admin's `user add` or
// `passwd` over SSH or offline): the rules of CheckNewPassword, not
// containing the name in any letter case, and, when minScore is above 0, a
// zxcvbn strength of at least minScore, counting the name as known to the
// attacker. Every caller goes through here so that a password refused one way
// is refused every way. The error is one plain sentence, matches ErrInvalid,
// and never repeats the password.
func CheckPassword(name, password string, minScore int) error {
	name = Normalize(name)
	if err := CheckNewPassword(name, password); err != nil {
		return err
	}
	if strings.Contains(strings.ToLower(password), name) {
		return invalidf("the password must not contain the username")
	}
	if minScore <= 0 {
		return nil
	}
	if r := zxcvbn.PasswordStrength(password, []string{name, "securechat"}); r.Score < minScore {
		return invalidf("that password is too easy to guess (strength %d of 4, %d needed): try a longer phrase of unrelated words", r.Score, minScore)
	}
	return nil
}
