package outhttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// Code is an outbound HTTP failure, spelt as the case of wasi:http's
// error-code variant it maps to.
type Code string

// The error-code cases redspin produces.
const (
	DNSTimeout               Code = "DNS-timeout"
	DNSError                 Code = "DNS-error"
	DestinationNotFound      Code = "destination-not-found"
	DestinationUnavailable   Code = "destination-unavailable"
	DestinationIPProhibited  Code = "destination-IP-prohibited"
	DestinationIPUnroutable  Code = "destination-IP-unroutable"
	ConnectionRefused        Code = "connection-refused"
	ConnectionTerminated     Code = "connection-terminated"
	ConnectionTimeout        Code = "connection-timeout"
	ConnectionReadTimeout    Code = "connection-read-timeout"
	ConnectionWriteTimeout   Code = "connection-write-timeout"
	ConnectionLimitReached   Code = "connection-limit-reached"
	TLSProtocolError         Code = "TLS-protocol-error"
	TLSCertificateError      Code = "TLS-certificate-error"
	TLSAlertReceived         Code = "TLS-alert-received"
	HTTPRequestDenied        Code = "HTTP-request-denied"
	HTTPRequestMethodInvalid Code = "HTTP-request-method-invalid"
	HTTPRequestURIInvalid    Code = "HTTP-request-URI-invalid"
	HTTPRequestHeaderSize    Code = "HTTP-request-header-size"
	HTTPRequestBodySize      Code = "HTTP-request-body-size"
	HTTPResponseIncomplete   Code = "HTTP-response-incomplete"
	HTTPResponseBodySize     Code = "HTTP-response-body-size"
	HTTPResponseTimeout      Code = "HTTP-response-timeout"
	HTTPProtocolError        Code = "HTTP-protocol-error"
	LoopDetected             Code = "loop-detected"
	ConfigurationError       Code = "configuration-error"
	InternalError            Code = "internal-error"
)

// Error is an outbound HTTP failure: its Code, a message for the log and
// the guest (never credentials: URLs are shown without user info), and the
// cause.
type Error struct {
	Code Code
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	s := "outbound HTTP " + string(e.Code)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// errInvalidRequest marks a request the guest built wrong (a header that
// is not HTTP); it has no wasi:http code of its own.
var errInvalidRequest = errors.New("invalid request")

func newErr(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the Code of err: its *Error's, or one classified from a
// network, TLS or context error; InternalError when nothing matches.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return classify(err)
}

// classify maps a Go error from dialing, TLS or the HTTP transport.
func classify(err error) Code {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var alert tls.AlertError
	var recordErr tls.RecordHeaderError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &dnsErr):
		if dnsErr.IsTimeout {
			return DNSTimeout
		}
		return DNSError
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidCert):
		return TLSCertificateError
	case errors.As(err, &alert):
		return TLSAlertReceived
	case errors.As(err, &recordErr):
		return TLSProtocolError
	case errors.Is(err, syscall.ECONNREFUSED):
		return ConnectionRefused
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return DestinationIPUnroutable
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ConnectionTerminated
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return ConnectionTimeout
	}
	return InternalError
}

// Spin's fermyon:spin/http http-error enum cases.
const (
	SpinDestinationNotAllowed = "destination-not-allowed"
	SpinInvalidURL            = "invalid-url"
	SpinRequestError          = "request-error"
	SpinRuntimeError          = "runtime-error"
	SpinTooManyRequests       = "too-many-requests"
)

// SpinHTTPError maps err onto fermyon:spin/http's http-error enum as Spin
// does: a refused destination is destination-not-allowed, an unusable URL
// invalid-url, the request limit too-many-requests, a request that cannot
// be built (bad method or header) request-error, and every transport
// failure, timeout or over-cap body runtime-error.
func SpinHTTPError(err error) string {
	switch CodeOf(err) {
	case HTTPRequestDenied:
		return SpinDestinationNotAllowed
	case HTTPRequestURIInvalid:
		return SpinInvalidURL
	case ConnectionLimitReached:
		return SpinTooManyRequests
	case HTTPRequestMethodInvalid, HTTPRequestHeaderSize:
		return SpinRequestError
	}
	if errors.Is(err, errInvalidRequest) {
		return SpinRequestError
	}
	return SpinRuntimeError
}
