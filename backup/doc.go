// Package backup snapshots, verifies and restores a securechat data folder,
// and keeps the folder's on-disk format version.
//
// A snapshot is a tar archive (gzip optional) of the folder's files and a
// manifest (format versions, counts, sizes and SHA-256 checksums), written
// last. The history is append-only, so its first N bytes, N being the
// length the server last made durable, are a consistent prefix; every other
// state file is replaced atomically, so reading it whole gives one version
// of it. The history's length is taken before the other files are read, so
// every account a message in the snapshot refers to is in it too.
//
// It knows files and archives, not SSH or the chat.
package backup
