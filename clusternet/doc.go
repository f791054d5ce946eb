// Package clusternet owns the cluster listener: the one TCP port (the
// Raft port) that carries everything between nodes except gossip.
//
// Every connection is TLS 1.3. After the handshake the dialer writes one
// byte that says what the connection is for, the way rqlite's tcp.Mux
// shares its Raft port:
//
//	'R'  Raft (hashicorp/raft's NetworkTransport, through StreamLayer)
//	'H'  internal HTTP (/internal/v1/*: forwarded writes, joins, robot
//	     claims of robot-only members, gossip key rotation)
//	'J'  the join exchange: a joiner that holds a join token but no
//	     certificate yet asks for one
//
// 'R' and 'H' need a node certificate from the cluster CA (checked in
// the handshake); a connection without one is closed before a byte of
// Raft or HTTP is read. 'J' is the only kind an anonymous peer may open,
// and its handler authenticates the join token itself. The joiner checks
// the server against the CA fingerprint in its token before it sends the
// token.
package clusternet
