package consensus

import (
	"context"
	"errors"
	"fmt"
)

// RotateVaultKey makes a new vault key, hands it to every server in the
// Raft configuration, re-encrypts every secret under it in one entry and
// then retires the old key on every server. It refuses to start unless
// every server takes the new key, so no server is left unable to open a
// value. Run it again if it reports secrets that changed under it.
func (s *Store) RotateVaultKey(ctx context.Context) (RotateVaultResult, error) {
	if s.cfg.VaultPusher == nil {
		return RotateVaultResult{}, errorf(CodeInternal, "this node cannot reach other servers' vault keys")
	}
	servers, err := s.vaultServers()
	if err != nil {
		return RotateVaultResult{}, err
	}
	id, key, err := newVaultKey()
	if err != nil {
		return RotateVaultResult{}, err
	}
	ring := s.vault.snapshot()
	ring.Keys[id] = key
	if ring.Current == "" {
		ring.Current = id // a cluster made before the vault: its first key
	}
	if err := s.pushKeys(ctx, servers, ring, false); err != nil {
		return RotateVaultResult{}, fmt.Errorf("hand the new key to every server (nothing re-encrypted): %w", err)
	}
	// A secret set between the read and the commit is skipped as stale,
	// still sealed under the old key: seal again before retiring it.
	var res RotateVaultResult
	for attempt := 0; ; attempt++ {
		res, err = s.reseal(ctx, id)
		if err != nil {
			return res, err
		}
		if len(res.Stale) == 0 {
			break
		}
		if attempt == maxResealRounds {
			return res, errorf(CodeConflict, "secrets %v kept changing during the rotation; the old key is kept: run rotate-key again", res.Stale)
		}
	}
	final := VaultKeys{Current: id, Keys: map[string][]byte{id: key}}
	if err := s.pushKeys(ctx, servers, final, true); err != nil {
		return res, fmt.Errorf("re-encrypted, but retiring the old key failed (run rotate-key again): %w", err)
	}
	return res, nil
}

// maxResealRounds bounds how often a rotation re-reads secrets that
// changed under it: each round only races the sets of one Raft round.
const maxResealRounds = 5

// reseal re-encrypts every secret under key id and commits it.
func (s *Store) reseal(ctx context.Context, id string) (RotateVaultResult, error) {
	if _, err := s.WaitConsistent(ctx); err != nil {
		return RotateVaultResult{}, err
	}
	var all []*Secret
	s.fsm.read(func(st *state) {
		for _, sec := range st.secrets {
			c := *sec
			all = append(all, &c)
		}
	})
	params, err := s.resealParams(id)
	if err != nil {
		return RotateVaultResult{}, err
	}
	cmd := RotateVaultCmd{KeyID: id, Params: params}
	for _, sec := range all {
		plain, err := s.vault.open(sec.KeyID, sec.Name, sec.Ciphertext)
		if err != nil {
			return RotateVaultResult{}, fmt.Errorf("rotate: %w", err)
		}
		sealed, err := s.vault.seal(id, sec.Name, plain)
		if err != nil {
			return RotateVaultResult{}, fmt.Errorf("rotate: %w", err)
		}
		cmd.Secrets = append(cmd.Secrets, RotatedSecret{Name: sec.Name, Version: sec.Version, Ciphertext: sealed})
	}
	return apply[RotateVaultResult](ctx, s, cmdRotateVault, cmd)
}

// vaultServers lists every server of the Raft configuration with the
// address its internal endpoints answer on.
func (s *Store) vaultServers() ([]NodeInfo, error) {
	cfg, err := s.configuration()
	if err != nil {
		return nil, err
	}
	var out []NodeInfo
	for _, srv := range cfg.Servers {
		n, ok := s.node(string(srv.ID))
		if !ok || n.HTTPAddr == "" {
			return nil, errorf(CodeConflict, "server %s has not registered its address: cannot hand it the new vault key", srv.ID)
		}
		out = append(out, n)
	}
	return out, nil
}

func (s *Store) pushKeys(ctx context.Context, servers []NodeInfo, ring VaultKeys, replace bool) error {
	var errs []error
	for _, srv := range servers {
		var err error
		if srv.Name == s.cfg.Name {
			err = s.vault.install(ring, replace)
		} else {
			err = s.cfg.VaultPusher.PushVaultKeys(ctx, srv, ring, replace)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("server %s: %w", srv.Name, err))
		}
	}
	return errors.Join(errs...)
}
