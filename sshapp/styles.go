package sshapp

import (
	"hash/fnv"
	"io"
	"slices"
	"sync"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles are the looks of a session, made for its terminal's colour profile
// so that colours match the client's terminal and never another session's;
// sessions with the same profile and theme share them (see styleCache).
type Styles struct {
	Time     lipgloss.Style
	Notice   lipgloss.Style
	Error    lipgloss.Style
	Private  lipgloss.Style
	Status   lipgloss.Style
	Prompt   lipgloss.Style
	Cursor   lipgloss.Style
	Button   lipgloss.Style
	WhoTitle lipgloss.Style
	Who      lipgloss.Style
	Me       lipgloss.Style
	Border   lipgloss.Style
	Mention  lipgloss.Style
	names    []lipgloss.Style
	theme    string
}

// Theme is the name of the theme these styles draw.
func (s *Styles) Theme() string {
	if s.theme == "" {
		return "dark"
	}
	return s.theme
}

// namePalette holds colours readable on dark and light backgrounds alike.
var namePalette = []string{"1", "2", "3", "4", "5", "6", "9", "10", "11", "12", "13", "14", "166", "35", "99", "203"}

// Themes a user can choose with /theme.
var Themes = []string{"dark", "light", "contrast", "mono"}

// NewStyles builds the default (dark) styles for one renderer.
func NewStyles(r *lipgloss.Renderer) *Styles { return NewThemeStyles(r, "dark") }

// NewThemeStyles builds a theme's styles for one renderer. "mono" uses no
// colour at all (for NO_COLOR and colourless terminals); "contrast" keeps
// to bold, bright colours; "light" picks colours readable on a light
// background.
func NewThemeStyles(r *lipgloss.Renderer, theme string) *Styles {
	s := &Styles{
		Time:     r.NewStyle().Faint(true),
		Notice:   r.NewStyle().Faint(true).Italic(true),
		Error:    r.NewStyle().Foreground(lipgloss.Color("9")).Bold(true),
		Private:  r.NewStyle().Foreground(lipgloss.Color("13")),
		Status:   r.NewStyle().Reverse(true),
		Prompt:   r.NewStyle().Bold(true),
		Cursor:   r.NewStyle().Reverse(true),
		Button:   r.NewStyle().Bold(true).Reverse(true),
		WhoTitle: r.NewStyle().Bold(true).Underline(true),
		Who:      r.NewStyle(),
		Me:       r.NewStyle().Bold(true),
		Border:   r.NewStyle().Faint(true),
		Mention:  r.NewStyle().Bold(true).Reverse(true),
		theme:    theme,
	}
	palette := namePalette
	switch theme {
	case "light":
		palette = []string{"1", "2", "4", "5", "6", "88", "22", "18", "54", "130", "24", "90"}
		s.Private = r.NewStyle().Foreground(lipgloss.Color("90"))
		s.Error = r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)
	case "contrast":
		palette = []string{"9", "10", "11", "12", "13", "14", "15"}
		s.Time = r.NewStyle()
		s.Notice = r.NewStyle().Bold(true)
		s.Border = r.NewStyle()
	case "mono":
		palette = nil
		s.Error = r.NewStyle().Bold(true)
		s.Private = r.NewStyle().Italic(true)
	}
	for _, c := range palette {
		s.names = append(s.names, r.NewStyle().Foreground(lipgloss.Color(c)).Bold(true))
	}
	if len(s.names) == 0 {
		s.names = []lipgloss.Style{r.NewStyle().Bold(true)}
	}
	return s
}

// Name is the style for a user's name: a colour derived from the name, so a
// user looks the same to everyone and in every session.
func (s *Styles) Name(name string) lipgloss.Style {
	if len(s.names) == 0 {
		return lipgloss.NewStyle()
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return s.names[h.Sum32()%uint32(len(s.names))]
}

// styleCache shares the styles of each colour profile and theme between
// sessions: styles only read their renderer's profile, and a set of them
// is several kilobytes that every session would otherwise hold.
type styleCache struct {
	mu sync.Mutex
	m  map[styleKey]*Styles
}

type styleKey struct {
	profile termenv.Profile
	theme   string
}

// get returns the shared styles of a profile and theme; an unknown theme
// gets the default one.
func (c *styleCache) get(profile termenv.Profile, theme string) *Styles {
	if !slices.Contains(Themes, theme) {
		theme = "dark"
	}
	k := styleKey{profile, theme}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[k]; ok {
		return st
	}
	r := lipgloss.NewRenderer(io.Discard, termenv.WithProfile(profile))
	// Set explicitly: left to itself, the renderer asks its output, which
	// is not a terminal, and every session would be drawn without colour.
	r.SetColorProfile(profile)
	r.SetHasDarkBackground(true)
	st := NewThemeStyles(r, theme)
	if c.m == nil {
		c.m = map[styleKey]*Styles{}
	}
	c.m[k] = st
	return st
}
