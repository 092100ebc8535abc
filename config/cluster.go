package config

import (
	"errors"
	"strings"
)

// Clustered reports whether any cluster setting is set: this process is
// then one node of several (see the cluster package).
func (c *Config) Clustered() bool {
	return c.ClusterName != "" || c.NodeName != "" || c.ClusterListen != "" || c.ClusterPeers != "" ||
		c.NATS != "" || c.ClusterTLSCert != "" || c.ClusterTLSKey != "" || c.ClusterTLSCA != ""
}

// SplitList splits a comma-separated setting (cluster-peers, nats),
// dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkCluster says what is missing or contradictory among the cluster
// settings, before anything starts.
func (c *Config) checkCluster() error {
	if !c.Clustered() {
		return nil
	}
	if c.ClusterName == "" {
		return errors.New("--cluster-name is required with the other cluster flags")
	}
	tls := c.ClusterTLSCert != "" || c.ClusterTLSKey != "" || c.ClusterTLSCA != ""
	if tls && (c.ClusterTLSCert == "" || c.ClusterTLSKey == "" || c.ClusterTLSCA == "") {
		return errors.New("--cluster-tls-cert, --cluster-tls-key and --cluster-tls-ca go together")
	}
	if c.NATS != "" {
		if c.ClusterListen != "" || c.ClusterPeers != "" || tls {
			return errors.New("--nats uses an existing NATS: --cluster-listen, --cluster-peers and --cluster-tls-… are for the embedded one")
		}
		return nil
	}
	if c.NodeName == "" || c.ClusterListen == "" {
		return errors.New("--node-name and --cluster-listen are required for a node (or --nats to use an existing NATS)")
	}
	return nil
}
