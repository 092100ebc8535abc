package sshapp

import (
	"context"
	"errors"
	"fmt"
	"securechat/textsafe"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"securechat/accounts"
	"securechat/history"
	"securechat/room"
)

// sessionMiddleware is the one handler every session goes through: it checks
// whose session this is, then runs an exec command or the chat UI.
func (s *Server) sessionMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		s.handleSession(sess)
		next(sess)
	}
}

func (s *Server) handleSession(sess ssh.Session) {
	s.sessions.add()
	defer s.sessions.done()
	s.trim.kick()
	defer s.trim.kick()
	defer s.recoverPanic("session")
	ctx := sess.Context()
	connUser := ""
	if c, ok := ctx.Value(ssh.ContextKeyConn).(gossh.Conn); ok {
		connUser = c.User()
		s.startKeepAlive(ctx, c)
	}
	user, err := verifiedUser(ctx, connUser)
	if err != nil {
		s.log.Warn("session refused", "user", safeName(connUser), "remote", remote(ctx), "err", err)
		fmt.Fprintln(sess.Stderr(), "securechat: this session does not belong to the account that logged in")
		_ = sess.Exit(1)
		return
	}
	if !s.admitSession(ctx) {
		s.log.Info("session refused: too many sessions from one address", "user", safeName(user), "remote", remote(ctx))
		s.cfg.Observer.Throttled(RuleSessionsPerSource)
		fmt.Fprintln(sess.Stderr(), "securechat: too many sessions from your address")
		_ = sess.Exit(1)
		return
	}
	if ci := connOf(ctx); ci != nil {
		s.online.add(user, ci)
		defer s.online.remove(user, ci)
	}
	isExec := len(sess.Command()) > 0
	s.cfg.Observer.SessionStarted(isExec)
	defer s.cfg.Observer.SessionEnded(isExec)
	// go-shlex parses in quadratic time: measure the line before parsing it.
	if raw, limit := sess.RawCommand(), s.guards.sess.MaxExecBytes; len(raw) > limit {
		s.log.Info("command refused: line too long", "user", safeName(user), "remote", remote(ctx), "bytes", len(raw))
		fmt.Fprintf(sess.Stderr(), "securechat: command line too long (%d bytes, at most %d); send long text on standard input, e.g. `ssh … send < file`\n", len(raw), limit)
		_ = sess.Exit(2)
		return
	}
	if cmd := sess.Command(); len(cmd) > 0 {
		code := s.runExecCommand(sess, user, cmd)
		_ = sess.Exit(code)
		return
	}
	pty, _, ok := sess.Pty()
	if !ok {
		fmt.Fprintln(sess.Stderr(), "securechat: no terminal. Connect with `ssh -t` for the chat, or run a command: who, send TEXT, history [-n N] [--json].")
		_ = sess.Exit(1)
		return
	}
	ws, _ := sess.Context().Value(windowKey{}).(*windowState)
	if err := s.runUI(sess, user, pty, ws); err != nil {
		// On the terminal itself, after the UI left the alternate screen.
		fmt.Fprintf(sess, "securechat: %s\n", err)
		_ = sess.Exit(1)
		return
	}
	_ = sess.Exit(0)
}

// sessionChat posts one user's lines to the room.
type sessionChat struct {
	s    *Server
	user string
	ctx  context.Context
	bell func()
	sub  *room.Subscription
	sess ssh.Session
}

func (c sessionChat) Send(name, text string) error {
	if c.sub != nil && !slices.Contains(c.sub.Rooms(), name) {
		return fmt.Errorf("you are not in #%s", name)
	}
	// The UI sends one line at a time from its outbox and waits when told
	// to, so it is paced rather than refused (see outbox.go).
	return c.s.postWith(c.ctx, c.user, name, room.KindMessage, text, c.s.paceFlood)
}

// JoinRoom enters a room for this session and returns its view's start.
func (c sessionChat) JoinRoom(name string) (RoomState, error) {
	if err := validRoom(name); err != nil {
		return RoomState{}, err
	}
	if len(c.sub.Rooms()) >= accounts.MaxRooms {
		return RoomState{}, fmt.Errorf("you are in %d rooms already: /leave one first", accounts.MaxRooms)
	}
	// A join is announced and stored like a message, so it counts against
	// the same per-user rate.
	if err := c.s.checkFlood(c.user); err != nil {
		return RoomState{}, err
	}
	if err := c.s.room.Enter(c.ctx, c.sub, name); err != nil {
		return RoomState{}, err
	}
	c.s.rememberRooms(c.user, name, true)
	return c.s.roomState(c.user, name), nil
}

// LeaveRoom leaves a room for this session.
func (c sessionChat) LeaveRoom(name string) error {
	if name == room.Lobby {
		return errors.New("everyone stays in the lobby")
	}
	c.s.room.Exit(c.sub, name)
	c.s.rememberRooms(c.user, name, false)
	return nil
}

// Bell rings the terminal: a BEL byte on the session, which moves nothing
// on the screen, so it may go between the renderer's frames.
func (c sessionChat) Bell() {
	if c.bell != nil {
		c.bell()
	}
}

// Command runs a command of the table (cmdtable.go) for the chat UI, in
// the room the user is looking at.
func (c sessionChat) Command(where, name, args string) ([]string, error) {
	return c.s.runChatCommand(&call{name: name, user: c.user, ctx: c.ctx, room: where, args: strings.Fields(args), text: args})
}

// post sanitises and stores a room message; it returns once the message is
// durable and shown, or with the reason it was not sent.
func (s *Server) post(ctx context.Context, user, where string, kind room.Kind, text string) error {
	return s.postWith(ctx, user, where, kind, text, s.checkFlood)
}

// postWith is post with the flood check to apply.
func (s *Server) postWith(ctx context.Context, user, where string, kind room.Kind, text string, flood func(string) error) error {
	text = strings.TrimSpace(textsafe.Sanitize(text, true))
	if text == "" {
		return errors.New("empty message")
	}
	if n := len([]rune(text)); n > s.conf().MaxMessage {
		return fmt.Errorf("message too long: %d characters, at most %d", n, s.conf().MaxMessage)
	}
	if err := s.checkMuted(user); err != nil {
		return err
	}
	if err := flood(user); err != nil {
		return err
	}
	_, err := s.room.Publish(ctx, room.Message{Kind: kind, Room: where, From: user, Text: text})
	if err != nil {
		s.log.Error("message not saved", "user", safeName(user), "err", err)
		return notSaved(err)
	}
	return nil
}

// backlog returns the last messages user may see, oldest first.
func (s *Server) backlog(user string, n int, name string, keep func(history.Entry) bool) ([]room.Message, error) {
	visible := visibleIn(user, name)
	es, err := s.hist.Tail(n, func(e history.Entry) bool {
		return visible(e) && (keep == nil || keep(e))
	})
	if err != nil {
		return nil, err
	}
	out := make([]room.Message, len(es))
	for i, e := range es {
		out[i] = fromEntry(e)
	}
	return out, nil
}

// colorProfile picks the colours from what the client said about its
// terminal, without querying it: a query would wait on clients that never
// answer and could eat the user's first keystrokes. Without colour (see
// colourless) the profile still draws bold, reverse and underline.
func colorProfile(sess ssh.Session, term string) termenv.Profile {
	if colourless(sess.Environ(), term) {
		return termenv.ANSI // with the mono theme: attributes, no colour
	}
	for _, e := range sess.Environ() {
		if e == "COLORTERM=truecolor" || e == "COLORTERM=24bit" {
			return termenv.TrueColor
		}
	}
	switch {
	case strings.Contains(term, "256color"), strings.Contains(term, "kitty"), strings.Contains(term, "alacritty"):
		return termenv.ANSI256
	}
	return termenv.ANSI
}

// runUI runs the chat UI for one session until the user quits, the
// connection drops, or the room ends the session.
func (s *Server) runUI(sess ssh.Session, user string, pty ssh.Pty, ws *windowState) error {
	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()

	startID := s.room.LastID()
	sub, err := s.room.Join(ctx, user)
	if err != nil {
		s.log.Error("join room", "user", safeName(user), "err", err)
		return fmt.Errorf("cannot join the room: %s", userError(notSaved(err)))
	}
	defer s.room.Leave(sub)
	// Subscribe first, then read the backlog: a message stored meanwhile is
	// in both, and the ID check in the pump drops the second copy.
	backlog, err := s.backlog(user, s.conf().Backlog, room.Lobby, func(e history.Entry) bool {
		// Not the user's own join notice that Join just stored.
		return e.ID <= startID || e.Kind != string(room.KindJoin) || e.From != user
	})
	if err != nil {
		s.log.Error("read backlog", "user", safeName(user), "err", err)
	}

	prefs, _ := s.acc.Prefs(user)
	profile := colorProfile(sess, pty.Term)
	theme := prefs.Theme
	noColour := colourless(sess.Environ(), pty.Term)
	if noColour {
		theme = "mono" // NO_COLOR, or a terminal without colour
	} else if theme == "" {
		theme = "dark"
	}
	lastRead := prefs.LastRead[room.Lobby]
	var rooms []RoomState
	for _, name := range prefs.Rooms {
		if name == room.Lobby || validRoom(name) != nil {
			continue
		}
		if err := s.room.Enter(ctx, sub, name); err != nil {
			s.log.Warn("rejoin room", "user", safeName(user), "room", name, "err", err)
			continue
		}
		rooms = append(rooms, s.roomState(user, name))
	}
	model := NewModel(ModelConfig{
		User:        user,
		Admin:       s.isAdmin(user),
		RoomName:    s.cfg.RoomName,
		Fingerprint: s.fingerprint,
		Styles:      s.styles.get(profile, theme),
		MakeStyles:  func(t string) *Styles { return s.styles.get(profile, t) },
		Theme:       theme,
		NoColour:    noColour,
		Timestamps:  prefs.Timestamps,
		Bell:        prefs.Bell,
		LastRead:    lastRead,
		Rooms:       rooms,
		Topic:       s.room.Topic(room.Lobby),
		Notices:     s.loginNotices(sess, user, lastRead),
		LastPrivate: s.lastSealedSender(user),
		Chat: sessionChat{s: s, user: user, ctx: ctx, sub: sub, sess: sess, bell: func() {
			_, _ = sess.Write([]byte{'\a'})
		}},
		Members:    s.room.Members(),
		Backlog:    s.msgs.share(backlog),
		Width:      pty.Window.Width,
		Height:     pty.Window.Height,
		MaxMessage: s.conf().MaxMessage,
		InboxHint:  s.inboxHint(sess, user),
		Ignore:     prefs.Ignore,
		Cache:      s.formats,
		Profile:    profile,
		Panel:      prefs.Panel == "on",
		// The model draws itself: it scrolls the pane and sends only the
		// rows that changed, where Bubble Tea's renderer would rewrite
		// every row that moved.
		Output:     terminalOut(sess),
		FPS:        s.conf().FPS,
		FrameBurst: s.conf().FrameBurst,
	})
	env := sess.Environ()
	if env == nil {
		env = []string{} // not nil: the program would copy the server's own environment
	}
	var p *tea.Program
	input := newInputReader(ctx, sess, s.guards.sess.MaxInputLine, func(msg string) {
		s.log.Info("input line cut", "user", safeName(user), "remote", remote(sess.Context()))
		p.Send(inputCutMsg{text: msg})
	})
	p = tea.NewProgram(model,
		tea.WithInput(input),
		tea.WithOutput(sess),
		tea.WithEnvironment(env),
		tea.WithContext(ctx),
		tea.WithoutRenderer(),
		tea.WithoutSignalHandler(),
	)

	sub.OnEnd(func(error) {
		// Out of the room at once: it gets nothing more and others see
		// it leave, even while its client is too stuck to notice (and
		// this session's goroutines are blocked writing to it).
		s.room.Leave(sub)
		// A session whose client no longer reads cannot be told; cut
		// it after a grace period.
		cut := time.AfterFunc(5*time.Second, func() { _ = sess.Close() })
		context.AfterFunc(ctx, func() { cut.Stop() })
	})
	go s.pump(ctx, sub, p, model, ws)

	_, runErr := p.Run()
	cancel()
	p.Kill()
	model.CloseScreen()
	s.saveLastRead(user, model.LastIDs())
	if err := model.Err(); err != nil {
		return errors.New(endReason(err))
	}
	if runErr != nil && !errors.Is(runErr, tea.ErrProgramKilled) && !errors.Is(runErr, context.Canceled) {
		s.log.Debug("program ended", "user", safeName(user), "err", runErr)
	}
	return nil
}

func endReason(err error) string {
	switch {
	case errors.Is(err, room.ErrClosed):
		return "the server is shutting down. Goodbye!"
	case errors.Is(err, room.ErrFellBehind):
		return "disconnected: your terminal fell behind the room (too many unread messages)."
	}
	var removed removedError
	if errors.As(err, &removed) {
		return removed.msg + "."
	}
	return "disconnected: " + err.Error()
}

// pump is the session's one helper goroutine: it waits for the room to
// queue messages and hands everything pending to the model at once (so a
// burst costs one frame, not one per message), straight rather than
// through the program's event loop; it paints frames held back; it passes
// on window changes; and it tells the program when the room ended the
// session. Everything but window changes arrives on the subscription's
// Ready channel, so each wake-up costs a select of two channels, not five.
func (s *Server) pump(ctx context.Context, sub *room.Subscription, p *tea.Program, model *Model, ws *windowState) {
	var winCh <-chan struct{} // nil (never ready) without a window state
	if ws != nil {
		winCh = ws.changed
	}
	model.HandHeldFrames(sub.Wake)
	defer model.ReleaseHeld()
	// While the next frame may not be painted yet, messages wait: the
	// first wakes the pump, which arms the held-frame timer for when the
	// frame may go out, and the ones after it wake nobody; one Drain then
	// takes them all. Join and leave notices wait for a held frame of
	// notices too. (When the publisher armed a timer for every session,
	// W1 measured a median 9% more CPU.)
	sub.SetWaker(func(notices bool) {
		if !model.FrameHeld(notices) {
			sub.Wake()
		}
	})
	defer sub.SetWaker(nil)
	stop := context.AfterFunc(ctx, sub.Wake)
	defer stop()
	ready := sub.Ready()
	for {
		select {
		case <-winCh:
			w := ws.get()
			p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
			continue
		case <-ready:
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case <-sub.Done():
			if errors.Is(sub.Err(), room.ErrClosed) && ctx.Err() != nil {
				return
			}
			p.Send(endedMsg{err: sub.Err()})
			return
		default:
		}
		if model.UntilNextFrame() > 0 && sub.Pending() && model.HoldForNextFrame() {
			continue // the frame may not go out yet: nothing to do until it may
		}
		if msgs := sub.Drain(); len(msgs) > 0 { // valid until the next Drain: Deliver copies what it keeps
			var members map[string][]string
			for _, m := range msgs {
				if (m.Kind == room.KindJoin || m.Kind == room.KindLeave) && m.Room != "" {
					if members == nil {
						members = map[string][]string{}
					}
					members[m.Room] = s.room.RoomMembers(m.Room)
				}
			}
			model.Deliver(incomingMsg{msgs: msgs, roomMembers: members})
		} else {
			model.PaintHeld() // woken by the frame timer
		}
	}
}

// inboxHint is the command a user runs to list their sealed messages.
func (s *Server) inboxHint(sess ssh.Session, user string) string {
	host, port := hintAddr(s.cfg.PublicHost, sess.LocalAddr())
	return fmt.Sprintf("ssh -p %s %s@%s inbox", port, user, host)
}

// notSaved turns a failed store into what the sender is told.
func notSaved(err error) error {
	switch {
	case errors.Is(err, room.ErrClosed), errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, history.ErrBroken):
		return errors.New("not saved: the server's disk failed and it must be restarted by its operator")
	}
	return errors.New("not saved on the server, please try again")
}

// ignoreNotice says what /ignore or /unignore did.
func ignoreNotice(cmd, who string, list []string) string {
	who = accounts.Normalize(strings.TrimPrefix(strings.TrimSpace(who), "@"))
	if cmd == "ignore" {
		return fmt.Sprintf("Ignoring %s: you will not see their messages (%d ignored). /unignore %s undoes it.", who, len(list), who)
	}
	return fmt.Sprintf("No longer ignoring %s.", who)
}
