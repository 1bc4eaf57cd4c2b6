// Package observe is the seam between the triggers and whatever records what they do: the triggers
// (pub/sub and redis-stream) report events and state through these interfaces, and internal/admin
// implements them with Prometheus metrics and health probes. It is a leaf package so that neither side
// imports the other (the trigger's own tests use admin, which rules out admin importing the trigger).
package observe

import "time"

// Result is the outcome of one handler invocation.
type Result int

// Handler outcomes. Each invocation counts as exactly one of them.
const (
	Handled  Result = iota // returned nil
	Failed                 // returned an error (or panicked)
	TimedOut               // returned an error wrapping context.DeadlineExceeded
)

// Drop reasons of LaneObserver.Dropped.
const (
	DropQueueFull = "queue_full" // the lane's queue was full (--drop policy applied)
	DropShutdown  = "shutdown"   // queued but not started when shutdown began
)

// Observer hands out the recorders of one trigger run. Implementations must be safe for concurrent use;
// Nop records nothing.
type Observer interface {
	// Server returns the recorder of one Redis server's connection, by display address.
	Server(display string) ServerObserver
	// Lane returns the recorder of one pub/sub (server, channel) lane.
	Lane(server, channel string) LaneObserver
	// Component returns the recorder of one component's handler invocations.
	Component(id string) ComponentObserver
	// Stream returns the recorder of one redis-stream trigger: (server, stream, group).
	Stream(server, stream, group string) StreamObserver
}

// ServerObserver records connection events for one Redis server.
type ServerObserver interface {
	// Reconnected counts one successful reconnection.
	Reconnected()
	// SetConnected records whether every channel of the server is subscribed.
	SetConnected(up bool)
}

// LaneObserver records one pub/sub lane.
type LaneObserver interface {
	// Received counts one message received on the lane.
	Received()
	// SetQueueDepth records the lane's queue length.
	SetQueueDepth(n int)
	// Dropped counts n messages dropped for reason (DropQueueFull or DropShutdown).
	Dropped(reason string, n int)
}

// ComponentObserver records handler outcomes for one component.
type ComponentObserver interface {
	// Observe records one invocation's result and duration.
	Observe(r Result, d time.Duration)
	// Failure records the error of one failed or timed-out invocation (called after Observe); the
	// admin status page shows the last one with its time.
	Failure(err error)
}

// GroupInfo is a consumer group's state as Redis reports it.
type GroupInfo struct {
	// Pending is the number of entries delivered and not yet acknowledged.
	Pending int64
	// Lag is the number of entries not yet delivered to the group; meaningful only when LagKnown.
	Lag int64
	// LagKnown is false when Redis reports the lag as NULL (e.g. after XDEL): the lag is unknown, not 0.
	LagKnown bool
	// OldestPendingAge is the age of the oldest pending entry (from its ID's time); 0 when none is pending.
	OldestPendingAge time.Duration
}

// StreamObserver records one redis-stream trigger.
type StreamObserver interface {
	// Received counts n entries delivered to this process (first deliveries, retries and claims).
	Received(n int)
	// Finished records one delivery's outcome and handler duration.
	Finished(r Result, d time.Duration)
	// Retried counts one entry scheduled for another delivery after a failure.
	Retried()
	// DeadLettered counts one entry moved to the dead-letter stream.
	DeadLettered()
	// Claimed counts n entries claimed from other (or earlier) consumers with XAUTOCLAIM.
	Claimed(n int)
	// Trimmed counts n pending entries that were deleted from the stream before they were handled.
	Trimmed(n int)
	// SetInFlight records the number of entries being handled now.
	SetInFlight(n int)
	// SetGroup records the group's state, refreshed on an interval.
	SetGroup(g GroupInfo)
	// SetConnected records whether the trigger's last Redis call succeeded (it is reading the stream).
	SetConnected(up bool)
	// Reconnected counts one return to reading after a lost connection.
	Reconnected()
}

// OutboundHTTPObserver records the outbound HTTP requests guests make.
// Implementations must be safe for concurrent use.
type OutboundHTTPObserver interface {
	// OutboundHTTP records one request of component to host: its final
	// status (0 when it failed without a response) and its duration, from
	// sending to the end of the response body.
	OutboundHTTP(component, host string, status int, d time.Duration)
}

// Nop is an Observer that records nothing.
type Nop struct{}

type (
	nop       struct{}
	nopStream struct{}
)

// Server implements Observer.
func (Nop) Server(string) ServerObserver { return nop{} }

// Lane implements Observer.
func (Nop) Lane(string, string) LaneObserver { return nop{} }

// Component implements Observer.
func (Nop) Component(string) ComponentObserver { return nop{} }

// Stream implements Observer.
func (Nop) Stream(string, string, string) StreamObserver { return nopStream{} }

func (nop) Reconnected()                  {}
func (nop) SetConnected(bool)             {}
func (nop) Received()                     {}
func (nop) SetQueueDepth(int)             {}
func (nop) Dropped(string, int)           {}
func (nop) Observe(Result, time.Duration) {}
func (nop) Failure(error)                 {}

func (nopStream) Received(int)                   {}
func (nopStream) Finished(Result, time.Duration) {}
func (nopStream) Retried()                       {}
func (nopStream) DeadLettered()                  {}
func (nopStream) Claimed(int)                    {}
func (nopStream) Trimmed(int)                    {}
func (nopStream) SetInFlight(int)                {}
func (nopStream) SetGroup(GroupInfo)             {}
func (nopStream) SetConnected(bool)              {}
func (nopStream) Reconnected()                   {}

// Status is a snapshot of the triggers' state, served by /healthz and /readyz.
type Status struct {
	// Ready is true once every trigger is running (every channel subscribed, every stream group
	// created), and false again while shutting down.
	Ready bool `json:"ready"`
	// Healthy is false while any connection is down (before the first connection and while
	// reconnecting).
	Healthy bool `json:"healthy"`
	// Servers are the pub/sub connections.
	Servers []ServerStatus `json:"servers"`
	// Streams are the redis-stream triggers; omitted when there are none.
	Streams []StreamStatus `json:"streams,omitempty"`
}

// ServerStatus is the state of one Redis server's pub/sub connection.
type ServerStatus struct {
	Server     string `json:"server"` // display address, never credentials
	State      string `json:"state"`  // connecting, subscribed, reconnecting, stopped
	Channels   int    `json:"channels"`
	Reconnects uint64 `json:"reconnects"`
	LastError  string `json:"last_error,omitempty"`
}

// StreamStatus is the state of one redis-stream trigger.
type StreamStatus struct {
	Server     string `json:"server"` // display address, never credentials
	Stream     string `json:"stream"`
	Group      string `json:"group"`
	Consumer   string `json:"consumer"`
	State      string `json:"state"` // connecting, reading, reconnecting, stopped
	Reconnects uint64 `json:"reconnects"`
	LastError  string `json:"last_error,omitempty"`
}

// StatusSource reports the triggers' state; each trigger implements it.
type StatusSource interface {
	Status() Status
}

// Merge combines the status of several triggers: ready and healthy when all are; nil sources are skipped.
func Merge(srcs ...StatusSource) StatusSource { return merged(srcs) }

type merged []StatusSource

func (m merged) Status() Status {
	st := Status{Ready: true, Healthy: true}
	for _, s := range m {
		if s == nil {
			continue
		}
		x := s.Status()
		st.Ready = st.Ready && x.Ready
		st.Healthy = st.Healthy && x.Healthy
		st.Servers = append(st.Servers, x.Servers...)
		st.Streams = append(st.Streams, x.Streams...)
	}
	return st
}
