// Package cluster lets several securechat nodes serve one chat, on NATS
// JetStream: it starts an embedded nats-server with JetStream (its store in
// DATA/nats, every write fsynced before it is acknowledged) clustered with
// its peers over NATS routes, or connects to an existing NATS deployment;
// and it keeps the room's messages in one replicated JetStream stream, whose
// order is the room's order on every node.
//
// It owns: the node's identity in its data folder (which cluster and node
// the folder belongs to, so a folder from another cluster is refused), the
// embedded server and its connection, the message stream, this node's
// local copy of that stream (a history log fed in stream order, from which
// reads are served), and two key-value buckets: names reserved across the
// cluster (Names) and who is online on each node (Presence).
//
// It must not know anything about SSH, sessions, the UI or chat rules: it
// moves history.Entry values, which it treats as opaque, hands the entries
// it consumes to a function the caller sets, and stores names as opaque
// strings.
package cluster
