// Package pki owns the cluster's certificate authority and the node
// certificates it issues.
//
// Every cluster has one CA, made by the first server at bootstrap
// (ECDSA P-256, valid 10 years). Each node holds a certificate from it
// (valid 1 year) whose common name is the node's name and which carries
// the URI SAN casare://node/<name>; that URI is what marks a certificate
// as a node certificate, so a certificate from the same CA for any other
// purpose never passes as a node. Servers keep the CA key (they issue
// certificates to joiners); robot-only members keep only the CA
// certificate and their own.
//
// Peers do not check host names: nodes move between addresses and are
// dialled by whatever address gossip or Raft last saw. They check what
// matters instead: the chain ends at this cluster's CA and the leaf is a
// node certificate. This is Consul's and Nomad's default posture
// (verify_server_hostname off), with the node URI doing the job their
// "server.<dc>.consul" name does.
//
// Files, under <data-dir>/tls: ca.crt, ca.key (servers only, 0600),
// node.crt, node.key (0600).
//
// Fingerprint is how a party that has no CA yet (a joiner holding a join
// token, an internet robot holding a robot token) pins the cluster it
// dials: "sha256:" and the hex SHA-256 of the CA certificate's DER.
package pki
