// Package config owns securechat's settings: one table (Settings) drives the
// command-line flags, the SECURECHAT_* environment variables, the TOML
// config file's keys, validation, `config example` and README's flags table.
// Precedence is flag > environment > file > default.
//
// It knows nothing of SSH, sockets or the chat: it turns text from three
// sources into a checked Config, and says where each value came from.
package config
