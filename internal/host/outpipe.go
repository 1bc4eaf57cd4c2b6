package host

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/redspin/redspin/internal/wasmtime"
)

// Guest output that is kept (a log file or an echo) reaches its sink
// through an OS pipe: Wasmtime writes each guest write straight into the
// pipe (wasi_config_set_stdout_file on /proc/self/fd/N of its write end),
// and the host reads the other end, cuts the bytes into whole lines and
// writes them to the component's sink. Wasmtime's other way, a custom
// stream with a callback, hands every guest write to one of Wasmtime's own
// threads, which costs more than the rest of a small guest's message
// (docs/performance.md).
//
// The read ends are not in Go's network poller on purpose: an epoll
// registration wakes a thread on every guest write, which cost as much as
// the write itself. Instead:
//
//   - At the end of a message the host takes the pipe's lock and reads it
//     empty. Guest writes are synchronous (write(2) on the pipe), so once
//     the guest has returned every byte it wrote is in the pipe or already
//     passed on: when Handle returns, the message's output, its partial
//     last line included (ended with a newline), has reached the sink, and
//     nothing of it can mix with the next message's.
//   - While messages run, a pump reads the pipes in use every pumpEvery, so
//     a long handler's lines show up while it runs, and a guest that writes
//     more than the pipe holds (64 KiB: pipes keep the kernel's default
//     size, since enlarged ones count against a per-user limit shared with
//     every other process of the user) waits at most that long. The pump is a timer armed by the first message after
//     a quiet spell and re-armed while messages run: at most one wake-up per
//     pumpEvery however many messages pass, none while idle.
//
// Pipes are pooled: a message takes one per kept stream and gives it back
// at its end.

// pumpEvery is how often output of running messages is passed on,
// pumpReads how many reads (of up to 64 KiB) each pipe gets per round, and
// pumpSoon the delay of the next round when a pipe still had more.
const (
	pumpEvery = 20 * time.Millisecond
	pumpReads = 4
	pumpSoon  = time.Millisecond
)

// outPipe is one pooled pipe.
type outPipe struct {
	rfd  int      // read end, non-blocking, not in Go's poller
	w    *os.File // write end, kept open while the pipe lives
	path string   // opens the write end again (Wasmtime creates and truncates; a pipe ignores both)

	mu sync.Mutex
	lw *lineWriter // the current message's writer; nil between messages
}

// pipePool holds the pipes of one Host and their pump.
type pipePool struct {
	// pumping is held while the pump reads, so that close can wait for it.
	pumping sync.Mutex
	// bufs are the buffers pipes are read into: one per read in progress,
	// not one per pipe, since a burst of concurrency leaves many pipes
	// pooled.
	bufs sync.Pool

	mu     sync.Mutex
	free   []*outPipe
	all    []*outPipe
	active []*outPipe
	timer  *time.Timer // the pump; armed while a message runs
	armed  bool
	closed bool
}

// probePipes returns a pipe pool if Wasmtime can open a pipe's write end
// by path on this system.
func probePipes() (*pipePool, error) {
	pp := &pipePool{}
	p, err := pp.get()
	if err != nil {
		pp.close()
		return nil, err
	}
	w := wasmtime.NewWASIConfig()
	err = w.SetStdoutFile(p.path)
	w.Close()
	if err != nil {
		pp.close()
		return nil, err
	}
	pp.put(p)
	return pp, nil
}

// get takes a pipe from the pool, or makes one.
func (pp *pipePool) get() (*outPipe, error) {
	pp.mu.Lock()
	if pp.closed {
		pp.mu.Unlock()
		return nil, errors.New("pipe pool closed")
	}
	if n := len(pp.free); n > 0 {
		p := pp.free[n-1]
		pp.free = pp.free[:n-1]
		pp.mu.Unlock()
		return p, nil
	}
	pp.mu.Unlock()
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("pipe for guest output: %w", err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		syscall.Close(fds[0])
		syscall.Close(fds[1])
		return nil, fmt.Errorf("pipe for guest output: %w", err)
	}
	p := &outPipe{
		rfd:  fds[0],
		w:    os.NewFile(uintptr(fds[1]), "guest-output-pipe"),
		path: fmt.Sprintf("/proc/self/fd/%d", fds[1]),
	}
	pp.mu.Lock()
	pp.all = append(pp.all, p)
	pp.mu.Unlock()
	return p, nil
}

// put returns a pipe to the pool.
func (pp *pipePool) put(p *outPipe) {
	pp.mu.Lock()
	pp.free = append(pp.free, p)
	pp.mu.Unlock()
}

// begin starts a message's use of p: its output goes to lw.
func (pp *pipePool) begin(p *outPipe, lw *lineWriter) {
	p.mu.Lock()
	p.lw = lw
	p.mu.Unlock()
	pp.mu.Lock()
	pp.active = append(pp.active, p)
	if !pp.armed && !pp.closed {
		pp.armed = true
		if pp.timer == nil {
			pp.timer = time.AfterFunc(pumpEvery, pp.pump)
		} else {
			pp.timer.Reset(pumpEvery)
		}
	}
	pp.mu.Unlock()
}

// end reads what remains in p, ends the message's output (see
// lineWriter.EndMessage), and detaches the message. Call it once the guest can no longer write.
func (pp *pipePool) end(p *outPipe) {
	pp.mu.Lock()
	for i, a := range pp.active {
		if a == p {
			pp.active[i] = pp.active[len(pp.active)-1]
			pp.active = pp.active[:len(pp.active)-1]
			break
		}
	}
	pp.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	pp.drain(p, -1)
	p.lw.EndMessage()
	p.lw = nil
}

// drain reads p until it is empty, or at most reads times (negative: no
// limit), and passes the bytes on; it reports whether it stopped at the
// limit (more may be waiting). p.mu must be held.
func (pp *pipePool) drain(p *outPipe, reads int) (more bool) {
	buf, _ := pp.bufs.Get().(*[64 << 10]byte)
	if buf == nil {
		buf = new([64 << 10]byte)
	}
	defer pp.bufs.Put(buf)
	for ; reads != 0; reads-- {
		n, err := syscall.Read(p.rfd, buf[:])
		if err == syscall.EINTR {
			continue
		}
		if n <= 0 || err != nil {
			return false // EAGAIN: empty
		}
		if p.lw != nil {
			p.lw.Write(buf[:n])
		}
	}
	return true
}

// pump passes on the output of the running messages, and re-arms itself
// while there are any.
func (pp *pipePool) pump() {
	pp.pumping.Lock()
	defer pp.pumping.Unlock()
	pp.mu.Lock()
	if pp.closed {
		pp.mu.Unlock()
		return
	}
	busy := slices.Clone(pp.active)
	pp.mu.Unlock()
	next := pumpEvery
	for _, p := range busy {
		// A pipe being ended is read empty by end itself. Each pipe gets a
		// bounded share per round, so that a guest writing without pause
		// cannot keep the pump from the other pipes; such a guest gets the
		// next round sooner instead.
		if p.mu.TryLock() {
			if pp.drain(p, pumpReads) {
				next = pumpSoon
			}
			p.mu.Unlock()
		}
	}
	pp.mu.Lock()
	if len(pp.active) > 0 && !pp.closed {
		pp.timer.Reset(next)
	} else {
		pp.armed = false
	}
	pp.mu.Unlock()
}

// close stops the pump and closes the pipes. No message may be using a
// pipe.
func (pp *pipePool) close() error {
	pp.mu.Lock()
	pp.closed = true
	if pp.timer != nil {
		pp.timer.Stop()
	}
	pp.mu.Unlock()
	pp.pumping.Lock() // a pump that already started has finished
	defer pp.pumping.Unlock()
	pp.mu.Lock()
	defer pp.mu.Unlock()
	var errs []error
	for _, p := range pp.all {
		errs = append(errs, syscall.Close(p.rfd), p.w.Close())
	}
	pp.all, pp.free, pp.active = nil, nil, nil
	return errors.Join(errs...)
}

// stdioOut is one kept output stream of one message: its line writer and,
// when it goes through a pipe, the pipe.
type stdioOut struct {
	lw    *lineWriter
	pipes *pipePool
	pipe  *outPipe
}

// set configures one WASI output stream for sink: nothing when the sink
// goes nowhere, else a pipe from pipes (held until release), else (no
// pipes, or no pipe to be had: out of file descriptors) a callback with
// setWriter. Output plumbing never fails a message.
func (o *stdioOut) set(pipes *pipePool, w *wasmtime.WASIConfig, sink *sink,
	setWriter func(*wasmtime.WASIConfig, io.Writer), setFile func(*wasmtime.WASIConfig, string) error) {
	if !sink.enabled() {
		return
	}
	o.lw = &lineWriter{sink: sink}
	if pipes != nil {
		if p, err := pipes.get(); err == nil {
			if setFile(w, p.path) == nil {
				o.pipes, o.pipe = pipes, p
				return
			}
			pipes.put(p)
		}
	}
	setWriter(w, o.lw)
}

// begin starts a message's output: its pipe's bytes go to the line writer.
func (o *stdioOut) begin() {
	if o.pipe != nil {
		o.pipes.begin(o.pipe, o.lw)
	}
}

// end writes what remains of the message's output to the sink, ending it
// at a line boundary. Call it when the guest can no longer write.
func (o *stdioOut) end() {
	switch {
	case o.pipe != nil:
		o.pipes.end(o.pipe)
	case o.lw != nil:
		o.lw.EndMessage()
	}
}

// release returns the pipe to the pool once the store is gone.
func (o *stdioOut) release() {
	if o.pipe != nil {
		o.pipes.put(o.pipe)
		o.pipe = nil
	}
	o.lw = nil
}
