package cognito_test

import (
	"context"
	"sync"
	"time"
)

// refreshWaits drives one replica's refresh waits without the wall clock
// (cognito.SetRefreshSleep): a race wait passes at once, as if its time had
// passed, unless the test set duringRace, which then runs in its place and
// does what happens elsewhere meanwhile.
type refreshWaits struct {
	mu         sync.Mutex
	raced      time.Duration // race waits taken
	duringRace func(ctx context.Context) error
}

func (w *refreshWaits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.raced += d
	during := w.duringRace
	w.mu.Unlock()
	if during != nil {
		return during(ctx)
	}
	return ctx.Err()
}

// onRace makes each race wait run during instead.
func (w *refreshWaits) onRace(during func(ctx context.Context) error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.duringRace = during
}

// racedFor is how long the replica's refreshes have waited out races.
func (w *refreshWaits) racedFor() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.raced
}

// until is a race wait that lasts until done is closed: until what the
// replica waits for has happened elsewhere.
func until(done <-chan struct{}) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
