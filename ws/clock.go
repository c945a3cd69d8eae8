package ws

import (
	"sync"
	"sync/atomic"
	"time"
)

// coarseTick is the resolution of the coarse clock.
const coarseTick = 250 * time.Millisecond

// clock is a process-wide coarse clock for write deadlines. Reading the
// system clock costs 50 to 150 ns on some virtual machines, more than a
// whole small-message write; the write path reads this value instead. It
// runs (as a timer, not a goroutine) only while some connection with a
// write timeout is open.
var clock struct {
	now   atomic.Int64 // unix nanoseconds, at most coarseTick old while running
	mu    sync.Mutex
	users int
	timer *time.Timer
}

func clockAcquire() {
	clock.mu.Lock()
	defer clock.mu.Unlock()
	clock.users++
	if clock.timer == nil {
		clock.now.Store(time.Now().UnixNano())
		clock.timer = time.AfterFunc(coarseTick, clockTick)
	}
}

func clockRelease() {
	clock.mu.Lock()
	clock.users--
	clock.mu.Unlock()
}

func clockTick() {
	clock.now.Store(time.Now().UnixNano())
	clock.mu.Lock()
	defer clock.mu.Unlock()
	if clock.users == 0 {
		clock.timer = nil
		return
	}
	clock.timer.Reset(coarseTick)
}
