// Package tunnel owns the QUIC transport between cluster nodes and internet
// robots: robots on client PCs outside the LAN that have no inbound port.
//
// A robot dials any node's UDP port with [Dial]; every node runs a [Server]
// from [Listen]. Over that one QUIC connection both sides make calls to each
// other through a [Conn]: the robot calls the node (claim work, heartbeat
// progress, report completion) and the node calls the robot (push a job, a
// cancel). Payloads are opaque JSON to this package; it knows nothing about
// jobs, leases or the rest of the repository.
//
// # Protocol
//
// TLS 1.3 only, ALPN "casare/1"; a peer offering any other protocol fails
// the TLS handshake. Every call uses one bidirectional QUIC stream: the
// caller writes one request frame and closes its side, the callee writes one
// response frame and closes its side. A frame is a 4-byte big-endian length
// followed by that many bytes of a JSON envelope,
//
//	request:  {"method": "...", "body": ...}
//	response: {"body": ...} or {"error": {"code": "...", "message": "..."}}
//
// The request is written in the same Write that opens the stream, because a
// QUIC peer cannot accept a stream before data arrives on it. A frame larger
// than the receiver's MaxFrameBytes, a frame that is not valid JSON, or bytes
// after the frame are a protocol violation: the receiver closes that one
// connection with a QUIC application error code naming the violation.
// Errors returned by a [Handler] reach the caller as a [*RemoteError].
//
// Both ends send QUIC keep-alives (KeepAlive, 5 s by default) and close a
// connection that has been silent for IdleTimeout (15 s by default), so a
// robot whose PC vanished is noticed well within a 30 s job lease, and a
// robot notices a dead node just as fast.
//
// # Authentication
//
// There is no cluster certificate authority yet, so the robot does not
// verify the node's certificate (its TLS config sets InsecureSkipVerify) and
// the node presents a self-signed certificate from [LoadOrCreateCert].
// Instead both sides authenticate each other with the robot token, bound to
// the TLS session by channel binding.
//
// A robot token is "casare_<tokenID>_<secret>" (see [ParseToken]); the
// cluster stores only sha256(secret) per token id (see [HashSecret]). On the
// first stream the robot opens:
//
//  1. The robot sends its [Hello], which names the token id.
//  2. The node looks the hash up with ServerConfig.TokenHash and answers
//     with HMAC-SHA256(key = hash, message = 32 bytes of TLS exporter keying
//     material for the label "EXPORTER-casare-robot-auth").
//  3. The robot computes the same value from its own secret and its own
//     view of the TLS session. Only a holder of the hash can produce it, and
//     only for this TLS session: a man in the middle terminates two TLS
//     sessions with different keying material, so a proof it relays from the
//     real node does not verify. The robot sends its secret only after the
//     proof verified; otherwise it closes the connection and [Dial] returns
//     an error wrapping [ErrServerProof].
//  4. The node compares sha256(secret) with the stored hash in constant time
//     and then calls ServerConfig.Authenticate, which checks revocation,
//     name binding and so on and returns the robot's [Identity].
//  5. The node sends the Identity back; both ends now hold the same value.
//
// A refusal closes the connection with a QUIC application error code whose
// reason phrase says why (unknown token id, wrong token secret, the
// Authenticate error); [Dial] returns it wrapped in [ErrAuthRefused] and the
// node logs it with the robot's address. No Handler is ever called for a
// peer that has not completed these steps.
//
// What this does not protect against: anyone who holds the stored token
// hashes (any cluster member, or whoever copied its state) can pose as a
// node to robots using those tokens. A cluster CA will close that gap.
//
// # Lifetimes
//
// A [Server] owns the goroutines of every connection it accepted and stops
// them on [Server.Close] or when the context passed to [Server.Serve] ends.
// A [Conn] returned by [Dial] owns its own goroutines and stops them when it
// is closed by either side or times out; [Conn.Done] is closed once they
// have all returned.
package tunnel
