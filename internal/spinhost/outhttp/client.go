package outhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redspin/redspin/internal/observe"
	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
)

// Defaults for [Config] and [Options].
const (
	// DefaultMaxConcurrent is the default number of requests one message
	// may have open at once.
	DefaultMaxConcurrent = 32
	// MaxRedirects is how many redirects a request with FollowRedirects
	// follows, as Spin's client.
	MaxRedirects = 10
	// SpinMaxBufferedBytes is Spin's cap on a body it buffers
	// (MAX_HOST_BUFFERED_BYTES): 128 MiB.
	SpinMaxBufferedBytes = 128 << 20
)

// Config configures outbound HTTP for one component.
type Config struct {
	// Component is the component ID, used in messages, metrics and to pick
	// its [[client_tls]] entries.
	Component string
	// Allowed is the component's parsed allowed_outbound_hosts; nil allows
	// nothing.
	Allowed *allowedhosts.List
	// Network is the app's outbound network configuration, shared by every
	// component. nil = the zero Network (nothing blocked, platform roots,
	// no connection limit).
	Network *Network
	// MaxConcurrent caps the requests one message has open at once (sent,
	// response body not yet finished or closed). 0 or negative =
	// DefaultMaxConcurrent.
	MaxConcurrent int
	// Observer records each request's host, status and duration for
	// /metrics. nil = not recorded.
	Observer observe.OutboundHTTPObserver
	// Logger receives a warning for each refused destination and each
	// request that got no response. nil = discard.
	Logger *slog.Logger
}

// Client is the outbound HTTP client of one component: its allowed hosts,
// its transport (connections pooled across messages) and its limits. Safe
// for concurrent use.
type Client struct {
	cfg       Config
	net       *Network
	transport *http.Transport
	log       *slog.Logger
}

// New returns the client of one component.
func New(cfg Config) *Client {
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	n := cfg.Network
	if n == nil {
		n = &Network{}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, net: n, log: log}
	c.transport = &http.Transport{
		Proxy: nil, // never a proxy, as Spin
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return n.dial(ctx, addr)
		},
		DialTLSContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			conn, err := n.dial(ctx, addr)
			if err != nil {
				return nil, err
			}
			host, _, _ := net.SplitHostPort(addr)
			return n.handshake(ctx, conn, cfg.Component, host)
		},
		DisableCompression:  true, // the guest sees the bytes the server sent
		DisableKeepAlives:   n.DisablePooling,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
	}
	n.addIdler(c.transport.CloseIdleConnections)
	return c
}

// Close closes the client's idle pooled connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// Request is one outbound request.
type Request struct {
	// Method is the HTTP method, such as GET ("" = GET).
	Method string
	// URL is the absolute http or https URL; a relative one is
	// HTTP-request-URI-invalid.
	URL *url.URL
	// Header are the request headers; forbidden ones are dropped (see
	// [Forbidden]). nil = none.
	Header http.Header
	// Body is the request body; nil = none. A *bytes.Reader,
	// *bytes.Buffer or *strings.Reader body is sent with its length and can
	// be sent again on a 307/308 redirect; another reader is sent chunked
	// unless ContentLength is set.
	Body io.Reader
	// ContentLength is the body's length when Body is another reader; 0 =
	// the Content-Length header's value if the guest set one, else unknown
	// (chunked).
	ContentLength int64
	// Trailer is a map the sender fills (keys and values) by the time Body
	// returns io.EOF; its entries are sent as trailers of a chunked body
	// (so with ContentLength 0). nil = none.
	Trailer http.Header
}

// Options bound one request. Zero fields mean "no bound beyond the
// message's context".
type Options struct {
	// ConnectTimeout bounds resolving, connecting and the TLS handshake
	// (connection-timeout).
	ConnectTimeout time.Duration
	// FirstByteTimeout bounds the time from the request's end to the
	// response headers (connection-read-timeout).
	FirstByteTimeout time.Duration
	// BetweenBytesTimeout bounds each wait for response body bytes
	// (connection-read-timeout).
	BetweenBytesTimeout time.Duration
	// FollowRedirects follows up to MaxRedirects redirects, each target
	// checked against allowed_outbound_hosts (the Spin interfaces); false
	// returns the 3xx response (wasi:http).
	FollowRedirects bool
}

// Response is a response whose body is streamed. The caller must read Body
// to its end or close it; [Instance.Close] closes it otherwise.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Header are the response headers.
	Header http.Header
	// Body streams the response body; its errors are *Error.
	Body io.ReadCloser

	resp *http.Response
}

// Trailer returns the response trailers; they are complete once Body has
// returned io.EOF. Empty when the server sent none.
func (r *Response) Trailer() http.Header {
	if r.resp == nil || r.resp.Trailer == nil {
		return http.Header{}
	}
	return r.resp.Trailer
}

// Instance is the outbound HTTP state of one message: its context, its
// open responses and its request limit.
type Instance struct {
	c      *Client
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu     sync.Mutex
	open   map[*body]struct{}
	active int
	closed bool
}

// errMessageEnded is the cause of an Instance's cancellation by Close.
var errMessageEnded = errors.New("the message's handling ended")

// NewInstance returns the state for one message; ctx (the message's
// context: handler timeout and shutdown) bounds every request.
func (c *Client) NewInstance(ctx context.Context) *Instance {
	ictx, cancel := context.WithCancelCause(ctx)
	return &Instance{c: c, ctx: ictx, cancel: cancel, open: map[*body]struct{}{}}
}

// Close cancels the message's running requests and closes its open
// response bodies. Idempotent.
func (i *Instance) Close() error {
	i.mu.Lock()
	i.closed = true
	open := make([]*body, 0, len(i.open))
	for b := range i.open {
		open = append(open, b)
	}
	i.mu.Unlock()
	i.cancel(errMessageEnded)
	for _, b := range open {
		b.Close()
	}
	return nil
}

func (i *Instance) reserve() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return newErr(InternalError, errMessageEnded, "request after the message ended")
	}
	if i.active >= i.c.cfg.MaxConcurrent {
		return newErr(ConnectionLimitReached, nil, "the message already has %d requests open (the limit per message); read or close their responses first", i.active)
	}
	i.active++
	return nil
}

func (i *Instance) unreserve() {
	i.mu.Lock()
	i.active--
	i.mu.Unlock()
}

// Check validates u as an outbound destination of this component: an
// absolute http or https URL with a valid authority that
// allowed_outbound_hosts allows. It returns HTTP-request-URI-invalid or
// HTTP-request-denied errors; a refusal is logged with the manifest line
// that would allow it.
func (c *Client) Check(u *url.URL) error {
	if u == nil || !u.IsAbs() || u.Host == "" {
		what := "no URL"
		if u != nil {
			what = fmt.Sprintf("%q", u.EscapedPath()) // never the query, which may carry a key
		}
		// As Spin: a relative request needs a self entry, and then an HTTP
		// trigger to serve it, which the Redis trigger is not.
		if u != nil && !u.IsAbs() && !c.cfg.Allowed.AllowsRelative("http", "https") {
			c.log.Warn("outbound HTTP refused", "component", c.cfg.Component, "url", what, "reason", "relative URL without a self entry")
			return newErr(HTTPRequestDenied, nil, "%s is a relative URL and allowed_outbound_hosts has no \"http://self\" entry", what)
		}
		return newErr(HTTPRequestURIInvalid, nil, "%s is not an absolute URL: relative (self) requests need Spin's HTTP trigger, which redspin does not have", what)
	}
	scheme := strings.ToLower(u.Scheme)
	host, port, err := ParseAuthority(u.Host)
	if err != nil {
		return newErr(HTTPRequestURIInvalid, err, "authority %q", u.Host)
	}
	// The allowed hosts first, as Spin: a destination the component may
	// not reach is refused whatever else is wrong with it.
	t := allowedhosts.Target{Scheme: scheme, Host: host, Port: port}
	if err := c.cfg.Allowed.Check(c.cfg.Component, t); err != nil {
		c.log.Warn("outbound HTTP refused", "component", c.cfg.Component, "err", err)
		return newErr(HTTPRequestDenied, err, "")
	}
	if scheme != "http" && scheme != "https" {
		return newErr(HTTPRequestURIInvalid, nil, "scheme %q is not http or https", u.Scheme)
	}
	if u.User != nil {
		return newErr(HTTPRequestURIInvalid, nil, "the URL has user info; send credentials in a header")
	}
	return nil
}

// Causes of a request's cancellation by its own timers.
var (
	errFirstByte    = errors.New("no response headers within the first-byte timeout")
	errBetweenBytes = errors.New("no response body bytes within the between-bytes timeout")
)

// Send sends req and returns its response once the headers arrive; the
// body is streamed. ctx and the message's context both bound the whole
// exchange, body included. Errors are *Error.
func (i *Instance) Send(ctx context.Context, req *Request, opts Options) (*Response, error) {
	start := time.Now()
	c := i.c
	if err := c.Check(req.URL); err != nil {
		c.observe(req.URL, 0, start)
		return nil, err
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	if !ValidHeaderName(method) {
		return nil, newErr(HTTPRequestMethodInvalid, nil, "method %q is not an HTTP token", method)
	}
	header, err := cleanHeaders(req.Header)
	if err != nil {
		return nil, err
	}
	if err := i.reserve(); err != nil {
		return nil, err
	}

	rctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(i.ctx, func() { cancel(context.Cause(i.ctx)) })
	release := func() { stop(); cancel(nil); i.unreserve() }
	o := opts
	rctx = context.WithValue(rctx, optsKey{}, &o)

	var fb firstByteTimer
	if opts.FirstByteTimeout > 0 {
		rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) {
				fb.start(opts.FirstByteTimeout, func() { cancel(errFirstByte) })
			},
		})
	}
	hr, err := http.NewRequestWithContext(rctx, method, req.URL.String(), req.Body)
	if err != nil {
		release()
		return nil, newErr(HTTPRequestURIInvalid, err, "")
	}
	if hr.ContentLength == 0 && req.Body != nil {
		hr.ContentLength = req.ContentLength
		if n, err := strconv.ParseInt(header.Get("Content-Length"), 10, 64); err == nil && n > 0 && hr.ContentLength == 0 {
			hr.ContentLength = n // a streamed body whose length the guest declared
		}
	}
	if _, ok := header["User-Agent"]; !ok {
		header["User-Agent"] = []string{""} // send none unless the guest does, as Spin's client
	}
	span := startSpan(ctx, method, req.URL, header)
	hr.Header = header
	hr.Trailer = req.Trailer
	hc := &http.Client{Transport: c.transport, CheckRedirect: c.redirectPolicy(opts.FollowRedirects)}
	resp, err := hc.Do(hr)
	fb.stop()
	if err != nil {
		// Cancelled by the caller (a guest dropping its future) or the
		// message's end, rather than failed by the destination (or the way
		// to it, or its first-byte timeout)?
		cancelled := rctx.Err() != nil && !errors.Is(context.Cause(rctx), errFirstByte)
		err = requestError(rctx, err)
		release()
		c.observe(req.URL, 0, start)
		if !cancelled {
			c.logFailure(req.URL, err)
		}
		span.failed(err)
		return nil, err
	}
	span.response(resp.StatusCode)
	b := &body{inst: i, rc: resp.Body, ctx: rctx, cancel: cancel, between: opts.BetweenBytesTimeout, release: release,
		done: func() { c.observe(resp.Request.URL, resp.StatusCode, start); span.end() }}
	i.mu.Lock()
	if i.closed {
		i.mu.Unlock()
		b.Close()
		return nil, newErr(InternalError, errMessageEnded, "response after the message ended")
	}
	i.open[b] = struct{}{}
	i.mu.Unlock()
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b, resp: resp}, nil
}

// firstByteTimer starts when the request is written (on every redirect hop
// too) and stops when the response headers arrive.
type firstByteTimer struct {
	mu      sync.Mutex
	t       *time.Timer
	stopped bool
}

func (f *firstByteTimer) start(d time.Duration, fire func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	if f.t != nil {
		f.t.Stop()
	}
	f.t = time.AfterFunc(d, fire)
}

func (f *firstByteTimer) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	if f.t != nil {
		f.t.Stop()
	}
}

// redirectPolicy checks each redirect target against the allowed hosts.
func (c *Client) redirectPolicy(follow bool) func(*http.Request, []*http.Request) error {
	return func(r *http.Request, via []*http.Request) error {
		if !follow {
			return http.ErrUseLastResponse
		}
		if len(via) > MaxRedirects {
			return newErr(LoopDetected, nil, "more than %d redirects", MaxRedirects)
		}
		if err := c.Check(r.URL); err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Msg = strings.TrimPrefix(e.Msg+"; redirected from "+origin(via[len(via)-1].URL), "; ")
			}
			return err
		}
		for name := range r.Header {
			if Forbidden(name) {
				r.Header.Del(name)
			}
		}
		return nil
	}
}

// requestError maps a failed round trip to an *Error.
func requestError(ctx context.Context, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errFirstByte):
		return newErr(ConnectionReadTimeout, cause, "")
	case cause != nil && ctx.Err() != nil:
		return cancelled(cause)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	code := classify(err)
	if code == InternalError {
		code = HTTPProtocolError
	}
	return newErr(code, err, "")
}

// cancelled is the error of a request cut short by its context.
func cancelled(cause error) *Error {
	if errors.Is(cause, context.DeadlineExceeded) {
		return newErr(ConnectionTimeout, cause, "the message's handler timeout expired")
	}
	return newErr(InternalError, cause, "cancelled (the message ended or redspin is shutting down)")
}

// logFailure warns of a request that got no response, naming its
// destination (scheme and authority: never the path or query, which may
// carry credentials), so that an operator sees why, where a guest's
// language may only say "network error". A refusal was logged by Check.
func (c *Client) logFailure(u *url.URL, err error) {
	if CodeOf(err) == HTTPRequestDenied {
		return
	}
	c.log.Warn("outbound HTTP failed", "component", c.cfg.Component, "destination", origin(u), "err", err)
}

// origin is u's scheme and authority: what messages, logs and spans show of
// a URL whose path or query may carry credentials (a webhook's token).
func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

func (c *Client) observe(u *url.URL, status int, start time.Time) {
	if c.cfg.Observer == nil {
		return
	}
	host := ""
	if u != nil {
		host = u.Hostname()
	}
	c.cfg.Observer.OutboundHTTP(c.cfg.Component, host, status, time.Since(start))
}

// body is a streamed response body: it applies the between-bytes timeout,
// maps errors to *Error, and when finished (EOF, error or Close) releases
// the request's slot and records its metrics once.
type body struct {
	inst    *Instance
	rc      io.ReadCloser
	ctx     context.Context
	cancel  context.CancelCauseFunc
	between time.Duration
	release func()
	done    func()

	once sync.Once
}

func (b *body) Read(p []byte) (int, error) {
	var t *time.Timer
	if b.between > 0 {
		t = time.AfterFunc(b.between, func() { b.cancel(errBetweenBytes) })
	}
	n, err := b.rc.Read(p)
	if t != nil {
		t.Stop()
	}
	if err == nil {
		return n, nil
	}
	if err != io.EOF {
		cause := context.Cause(b.ctx)
		switch {
		case errors.Is(cause, errBetweenBytes):
			err = newErr(ConnectionReadTimeout, cause, "")
		case cause != nil && b.ctx.Err() != nil:
			err = cancelled(cause)
		default:
			err = newErr(HTTPResponseIncomplete, err, "")
		}
	}
	b.finish()
	return n, err
}

func (b *body) Close() error {
	err := b.rc.Close()
	b.finish()
	return err
}

func (b *body) finish() {
	b.once.Do(func() {
		b.inst.mu.Lock()
		delete(b.inst.open, b)
		b.inst.mu.Unlock()
		b.release()
		b.done()
	})
}

// ReadAll reads r.Body to its end and closes it, failing with
// HTTP-response-body-size (runtime-error on the Spin interfaces, as Spin)
// once it holds more than max bytes. max <= 0 = SpinMaxBufferedBytes.
func ReadAll(r *Response, max int64) ([]byte, error) {
	defer r.Body.Close()
	if max <= 0 {
		max = SpinMaxBufferedBytes
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, newErr(HTTPResponseBodySize, nil, "the response body is larger than the host buffers (%d bytes)", max)
	}
	return b, nil
}
