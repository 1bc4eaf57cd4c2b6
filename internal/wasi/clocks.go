package wasi

import (
	"sync"
	"time"

	"github.com/redspin/redspin/internal/wasmtime"
)

func u64(n uint64) wasmtime.Val { return wasmtime.Val{Kind: wasmtime.CU64, Num: n} }

// monotonic returns the monotonic clock: nanoseconds since the store's
// Ctx was made.
func (c *Ctx) monotonic() uint64 { return uint64(time.Since(c.start)) }

// timer is a pollable ready at a time; its time.Timer starts on the
// first Ready and stops when the guest drops it.
type timer struct {
	at   time.Time
	once sync.Once
	ch   chan struct{}
	t    *time.Timer
}

func (t *timer) Ready() <-chan struct{} {
	t.once.Do(func() {
		t.ch = make(chan struct{})
		d := time.Until(t.at)
		if d <= 0 {
			close(t.ch)
			return
		}
		t.t = time.AfterFunc(d, func() { close(t.ch) })
	})
	return t.ch
}

func (t *timer) Close() error {
	t.once.Do(func() { t.ch = make(chan struct{}) })
	if t.t != nil {
		t.t.Stop()
	}
	return nil
}

func subscribeAt(x *Call, at time.Time, results []wasmtime.Val) error {
	p, err := x.Push(tyPollable, &timer{at: at}, 0)
	results[0] = p
	return err
}

var clocksMonotonic = Interface{
	"now": func(x *Call, _, results []wasmtime.Val) error {
		results[0] = u64(x.monotonic())
		return nil
	},
	"resolution": func(_ *Call, _, results []wasmtime.Val) error {
		results[0] = u64(1)
		return nil
	},
	"subscribe-instant": func(x *Call, args, results []wasmtime.Val) error {
		return subscribeAt(x, x.start.Add(time.Duration(min(args[0].Num, 1<<62))), results)
	},
	"subscribe-duration": func(x *Call, args, results []wasmtime.Val) error {
		return subscribeAt(x, time.Now().Add(time.Duration(min(args[0].Num, 1<<62))), results)
	},
}

func datetime(secs uint64, nanos uint32) wasmtime.Val {
	return wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"seconds", "nanoseconds"},
		Elems: []wasmtime.Val{u64(secs), wasmtime.U32(nanos)}}
}

func datetimeOf(t time.Time) wasmtime.Val {
	return datetime(uint64(t.Unix()), uint32(t.Nanosecond()))
}

var clocksWall = Interface{
	"now": func(_ *Call, _, results []wasmtime.Val) error {
		results[0] = datetimeOf(time.Now())
		return nil
	},
	"resolution": func(_ *Call, _, results []wasmtime.Val) error {
		results[0] = datetime(0, 1)
		return nil
	},
}
