package faketwilio

import "testing"

// TestUncheckedRoutesEveryEndpoint: without the spec, every operation the
// fake implements is still reachable.
func TestUncheckedRoutesEveryEndpoint(t *testing.T) {
	routed := map[string]bool{}
	for _, o := range uncheckedOps {
		routed[o.id] = true
	}
	for op := range endpoints {
		if !routed[op] {
			t.Errorf("%s is not in uncheckedOps: an unchecked fake answers it 404", op)
		}
	}
}
