package main

import "testing"

// A command registered twice shows twice in --help and makes cobra pick
// one of them arbitrarily.
func TestEveryCommandIsRegisteredOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range newRootCmd().Commands() {
		if seen[c.Name()] {
			t.Errorf("command %q is registered twice", c.Name())
		}
		seen[c.Name()] = true
	}
}
