package sshapp

import "strings"

// colourlessTerms are terminal types that show no colour; a name ending in
// "-mono" or "-m" (terminfo's convention) is one too.
var colourlessTerms = []string{"", "dumb", "vt52", "vt100", "vt102", "vt220", "vt320", "vt420"}

// colourless reports a session that must get no colour: NO_COLOR set in
// the client's environment (https://no-color.org: any value), or a
// terminal type without colour. Such a session gets the mono theme, which
// keeps bold, reverse and underline as its cues.
func colourless(environ []string, term string) bool {
	for _, e := range environ {
		if strings.HasPrefix(e, "NO_COLOR=") && e != "NO_COLOR=" { // set and not empty
			return true
		}
	}
	term = strings.ToLower(term)
	for _, t := range colourlessTerms {
		if term == t {
			return true
		}
	}
	return strings.HasSuffix(term, "-mono") || strings.HasSuffix(term, "-m")
}

// noColourTheme says why a theme other than mono cannot apply.
func noColourTheme(theme string) string {
	return "theme " + theme + " cannot apply here: this terminal shows no colour (NO_COLOR is set, or its TERM has none), so it stays mono"
}
