package room

// RoomsOf lists the rooms user has a session in, read from the members
// snapshot without the lock, in no particular order. It costs a look at
// every live room, so it is for rare events (an admin's action), not for
// each message.
func (r *Room) RoomsOf(user string) []string {
	var out []string
	for name, members := range *r.roomSnap.Load() {
		for _, m := range members {
			if m == user {
				out = append(out, name)
				break
			}
		}
	}
	return out
}
