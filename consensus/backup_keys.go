package consensus

import (
	"maps"
	"slices"
)

// A backup is only worth restoring if every sealed value in it can be
// opened afterwards: secrets, and the sealed params of jobs and of
// schedules' job templates. Both ends check: a save refuses a state this
// server could not open, and a restore refuses a state whose keys are
// neither in the snapshot nor on this server, before anything changes.

// sealedUse names one value sealed under a vault key, for an error.
type sealedUse struct {
	keyID string
	what  string // "secret \"X\"", "job j1's params", ...
}

// sealedKeyUses returns, per vault key id the state seals something
// with, the first thing sealed with it (in a stable order: secrets by
// name, then jobs in sequence order, then schedules by id).
func (d snapshotData) sealedKeyUses() []sealedUse {
	var uses []sealedUse
	seen := map[string]bool{}
	note := func(keyID, what string) {
		if !seen[keyID] {
			seen[keyID] = true
			uses = append(uses, sealedUse{keyID: keyID, what: what})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.Secrets)) {
		note(d.Secrets[name].KeyID, "secret "+quote(name))
	}
	for _, j := range d.Jobs {
		if j.SealedParams != nil {
			note(j.SealedParams.KeyID, "the params of job "+j.ID)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(d.Schedules)) {
		if sp := d.Schedules[id].Template.SealedParams; sp != nil {
			note(sp.KeyID, "the params of schedule "+id)
		}
	}
	return uses
}

// missingKey returns the first sealed value whose key is in none of
// rings, and whether there is one.
func (d snapshotData) missingKey(rings ...VaultKeys) (sealedUse, bool) {
	for _, u := range d.sealedKeyUses() {
		if !slices.ContainsFunc(rings, func(r VaultKeys) bool { _, ok := r.Keys[u.keyID]; return ok }) {
			return u, true
		}
	}
	return sealedUse{}, false
}

func quote(s string) string { return `"` + s + `"` }
