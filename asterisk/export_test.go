package asterisk

import "context"

// SweepNow sweeps at once, as the driver does every SweepEvery, and
// returns how many calls it took up.
func (d *Driver) SweepNow(ctx context.Context) int { return d.sweep(ctx) }
