package resp

import "fmt"

// PushKind says what a reply on a subscribed connection is.
type PushKind int

// What ReadPush returns. In RESP2 a subscribed connection receives only
// arrays (and error replies, which ReadPush returns as errors).
const (
	// Other is any other reply; ReadPush consumed it.
	Other PushKind = iota
	// Message is a published message: Channel and Payload are set.
	Message
	// PMessage is a message matched by a pattern subscription: Channel
	// (the channel it was published on) and Payload are set.
	PMessage
	// Subscribed confirms one channel of SUBSCRIBE (or PSUBSCRIBE,
	// SSUBSCRIBE): Channel and Count (the subscriptions now) are set.
	Subscribed
	// Unsubscribed confirms one channel of UNSUBSCRIBE (or its variants).
	Unsubscribed
	// Pong answers PING in subscribed mode: Payload is PING's argument
	// (empty without one), in the reader's buffer.
	Pong
)

// Push is one reply on a subscribed connection.
type Push struct {
	Kind PushKind
	// Channel is the channel's name, in a buffer of the reader valid until
	// the next call; nil for a null channel (UNSUBSCRIBE with none left).
	Channel []byte
	// Payload is a message's payload, in the buffer alloc returned.
	Payload []byte
	// Count is the number of subscriptions after (un)subscribing.
	Count int64
	// Skipped is the length of a message's payload that was read past
	// without being kept, because alloc returned nil for it (Payload nil).
	Skipped int
}

// ReadPush reads one reply of a subscribed connection. For a message it
// calls alloc with the channel and the payload's length n, and reads the
// payload into the buffer alloc returns, which must have length n; when
// alloc returns nil for a non-empty payload, the payload is read past
// without being kept (Push.Skipped); a nil alloc allocates. An error reply
// is returned as a *ServerError.
func (r *Reader) ReadPush(alloc func(channel []byte, n int) []byte) (Push, error) {
	h, err := r.ReadHeader()
	if err != nil {
		return Push{}, err
	}
	switch {
	case h.Kind == Error:
		return Push{}, &ServerError{Msg: string(h.Text)}
	case h.Kind != Array || h.N < 1:
		return Push{}, r.Skip(h)
	}
	kh, err := r.ReadHeader()
	if err != nil {
		return Push{}, unexpected(err)
	}
	left := h.N - 1
	// skipRest consumes the elements not read yet.
	skipRest := func(p Push) (Push, error) {
		return p, r.Skip(Header{Kind: Array, N: left})
	}
	if kh.Kind != Bulk || kh.N < 0 || kh.N > 16 {
		if err := r.Skip(kh); err != nil {
			return Push{}, err
		}
		return skipRest(Push{})
	}
	kind, err := r.small(kh.N)
	if err != nil {
		return Push{}, err
	}
	var p Push
	var want int64 // elements after the kind that p needs
	switch string(kind) {
	case "message":
		p.Kind, want = Message, 2
	case "pmessage":
		p.Kind, want = PMessage, 3
	case "subscribe", "psubscribe", "ssubscribe":
		p.Kind, want = Subscribed, 2
	case "unsubscribe", "punsubscribe", "sunsubscribe":
		p.Kind, want = Unsubscribed, 2
	case "pong":
		p.Kind, want = Pong, 1
	}
	if p.Kind == Other || left != want {
		return skipRest(Push{})
	}
	if p.Kind == PMessage { // the pattern
		if err := r.skipElem(); err != nil {
			return Push{}, err
		}
		left--
	}
	if p.Kind == Pong {
		ah, err := r.ReadHeader()
		if err != nil {
			return Push{}, unexpected(err)
		}
		if ah.Kind != Bulk {
			return Push{}, r.wrongType(ah, "PONG's argument")
		}
		if ah.N >= 0 {
			if p.Payload, err = r.small(ah.N); err != nil {
				return Push{}, err
			}
		}
		return p, nil
	}
	if p.Channel, err = r.readChannel(); err != nil {
		return Push{}, err
	}
	switch p.Kind {
	case Subscribed, Unsubscribed:
		ch, err := r.ReadHeader()
		if err != nil {
			return Push{}, unexpected(err)
		}
		if ch.Kind != Integer {
			return Push{}, r.wrongType(ch, "the subscription count")
		}
		p.Count = ch.N
		return p, nil
	}
	ph, err := r.ReadHeader()
	if err != nil {
		return Push{}, unexpected(err)
	}
	if ph.Kind != Bulk || ph.N < 0 {
		return Push{}, r.wrongType(ph, "a message's payload")
	}
	n := int(ph.N)
	var dst []byte
	if alloc != nil {
		dst = alloc(p.Channel, n)
	} else {
		dst = make([]byte, n)
	}
	if dst == nil && n > 0 {
		p.Skipped = n
		return p, r.Skip(ph)
	}
	if len(dst) != n {
		return Push{}, fmt.Errorf("resp: alloc returned %d bytes for a %d-byte payload", len(dst), n)
	}
	if err := r.ReadBulk(dst); err != nil {
		return Push{}, err
	}
	p.Payload = dst
	return p, nil
}

// readChannel reads a channel name (a bulk string, possibly null) into
// r.channel, which stays valid while the payload after it is read.
func (r *Reader) readChannel() ([]byte, error) {
	h, err := r.ReadHeader()
	if err != nil {
		return nil, unexpected(err)
	}
	if h.Kind != Bulk {
		return nil, r.wrongType(h, "a channel name")
	}
	if h.N < 0 {
		return nil, nil
	}
	s, err := r.small(h.N)
	if err != nil {
		return nil, err
	}
	r.channel = append(r.channel[:0], s...)
	return r.channel, nil
}

// skipElem consumes one whole reply.
func (r *Reader) skipElem() error {
	h, err := r.ReadHeader()
	if err != nil {
		return unexpected(err)
	}
	return r.Skip(h)
}

// wrongType reports a reply of the wrong type where what was expected.
func (r *Reader) wrongType(h Header, what string) error {
	return fmt.Errorf("%w: %s where %s was expected", ErrProtocol, kindName(h.Kind), what)
}
