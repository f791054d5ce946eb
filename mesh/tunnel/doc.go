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
// Calls larger than 16 KiB that a side serves on one connection hold at
// most four frames of MaxFrameBytes between the read of their length and
// their answer (budget.go); one more is read past without being kept and
// answered CodeBusy, so a peer cannot make the other side buffer a
// megabyte on each of its thousand streams.
//
// A node offers call streams in its welcome (see callstream.go); a robot
// it offered them to keeps a finished call's stream for its next call. A
// call stream opens with a frame naming "tunnel.calls" and then carries
// request and response frames in turn, one call at a time, until the
// robot closes or resets it. Either side that predates them keeps to a
// stream per call, which the other serves as before.
//
// Both ends send QUIC keep-alives (KeepAlive, 5 s by default) and close a
// connection that has been silent for IdleTimeout (15 s by default), so a
// robot whose PC vanished is noticed well within a 30 s job lease, and a
// robot notices a dead node just as fast.
//
// # Authentication
//
// The node presents its certificate from the cluster CA, with the CA
// certificate after it (ServerConfig.TLSCert). A robot token is
// "casare_<tokenID>_<secret>.<CA fingerprint>"; the robot verifies, during
// the TLS handshake, that the node's chain holds a CA with that
// fingerprint and that the leaf is a node certificate it issued
// (ClientConfig.TLS, pki.PinnedClientConfig). Anything else — a node of
// another cluster, a relay, a stranger with a self-signed certificate —
// fails the TLS handshake, and [Dial] returns an error wrapping
// [ErrNodeNotTrusted]: the secret is never sent to it. (This replaces a
// proof the node used to compute from the stored token hash, which anyone
// holding the hashes could forge.)
//
// The cluster stores only sha256(secret) per token id (see [HashSecret]).
// On the first stream the robot opens it sends its [Hello], which names
// the token id, and the secret, in one message. The node compares
// sha256(secret) with the stored hash in constant time; for an unknown id
// it compares against a decoy hash instead, and for both it calls
// ServerConfig.CatchUp and looks again before refusing with the same
// words, so a stranger cannot tell an unknown id from a wrong secret. It
// then calls ServerConfig.Authenticate, which checks revocation, expiry,
// what the token fixes and so on and returns the robot's [Identity], and
// sends the Identity back; both ends now hold the same value.
//
// A refusal closes the connection with a QUIC application error code whose
// reason phrase says why; [Dial] returns it wrapped in [ErrAuthRefused] and
// the node logs it with the robot's address. No Handler is ever called for
// a peer that has not completed these steps. A node that later shuts an
// authenticated robot out (its token revoked) closes the connection with
// [Conn.Revoke]; the robot's [Conn.Err] then wraps ErrAuthRefused too.
//
// # Lifetimes
//
// A [Server] owns the goroutines of every connection it accepted and stops
// them on [Server.Close] or when the context passed to [Server.Serve] ends.
// A [Conn] returned by [Dial] owns its own goroutines and stops them when it
// is closed by either side or times out; [Conn.Done] is closed once they
// have all returned.
package tunnel
