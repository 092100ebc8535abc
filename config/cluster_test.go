package config

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// The cluster settings are checked together wherever each comes from: a
// file or the environment can leave a node half-configured as a flag can.
func TestClusterSettingsChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		file string
		want string // "": accepted
	}{
		{name: "none", want: ""},
		{name: "node from flags", args: []string{"--cluster-name", "chat", "--node-name", "n1", "--cluster-listen", "127.0.0.1:6222"}, want: ""},
		{name: "node from env", env: map[string]string{"SECURECHAT_CLUSTER_NAME": "chat", "SECURECHAT_NODE_NAME": "n1", "SECURECHAT_CLUSTER_LISTEN": "127.0.0.1:6222"}, want: ""},
		{name: "existing NATS from file", file: "cluster-name = \"chat\"\nnats = \"nats://127.0.0.1:4222\"\n", want: ""},
		{name: "no cluster name in env", env: map[string]string{"SECURECHAT_NODE_NAME": "n1"}, want: "--cluster-name is required"},
		{name: "no node in file", file: "cluster-name = \"chat\"\ncluster-listen = \"127.0.0.1:6222\"\n", want: "--node-name and --cluster-listen are required"},
		{name: "nats and peers", file: "cluster-name = \"chat\"\nnats = \"nats://127.0.0.1:4222\"\n", args: []string{"--cluster-peers", "127.0.0.1:6223"}, want: "--nats uses an existing NATS"},
		{name: "tls half", env: map[string]string{"SECURECHAT_CLUSTER_NAME": "chat", "SECURECHAT_NODE_NAME": "n1", "SECURECHAT_CLUSTER_LISTEN": "127.0.0.1:6222", "SECURECHAT_CLUSTER_TLS_KEY": "k.pem"}, want: "go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.file != "" {
				args = append([]string{"--config", writeFile(t, tc.file)}, args...)
			}
			_, _, err := Load(args, envOf(tc.env), io.Discard, "")
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	if got := SplitList(" a:1, ,b:2,"); !slices.Equal(got, []string{"a:1", "b:2"}) {
		t.Fatalf("SplitList: %q", got)
	}
	if got := SplitList(""); got != nil {
		t.Fatalf("SplitList of nothing: %q", got)
	}
}
