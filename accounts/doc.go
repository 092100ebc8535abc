// Package accounts owns the user database of a securechat server: the file
// DATA/users.json, shaped {"users": [...]}, holding for each user a lower-case
// name, a bcrypt hash of the password (never the password), the creation
// time, a role, the public keys (SSH and age) the user has registered, the
// moderation state (a ban, a mute) and the user's preferences.
//
// The store keeps the whole file in memory and rewrites it atomically on every
// change (temporary file in the same folder, fsync, rename, fsync of the
// folder), so a crash leaves either the old or the new file, never a torn one.
// A change whose save fails is not applied: memory and disk stay equal. A file
// that does not parse is reported and never overwritten. The password policy
// (CheckPassword) lives here too, so that every way of setting a password
// (registration over SSH, an admin's command, the offline user command)
// refuses the same passwords.
//
// The package must not know about SSH sessions, connections, terminals, the
// chat room or the message history. It speaks only of names, passwords,
// keys, bans, mutes and preferences; deciding who may log in over which
// method, whether a ban or a mute stops someone, and what to tell the client,
// belongs to the SSH layer. Expired bans and mutes stay in the file, inert,
// until they are replaced or lifted. It imports nothing from this module.
package accounts
