package synnefo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// ClientError is the one error type of every client. It describes either an HTTP error reply (Status set,
// Fault/Message/Details parsed from the fault body) or a transport error (Status 0, Err set).
//
// Fault bodies are parsed as kamaki does: a JSON object with a single top-level key K whose value is an
// object gives Fault=K, Message=K.message and Details=K.details. Any other body (a bare JSON list such as
// Pithos' 409 hashmap reply, HTML, plain text) is kept raw in Details with Message set to the reason phrase;
// an empty body gives just the reason phrase.
type ClientError struct {
	Message string
	Status  int
	Details string
	Fault   string // e.g. "itemNotFound"; "" when the body had none
	Err     error  // underlying transport (or decoding) error, if any

	Method string // request method, for the error text
	URL    string // request URL (never contains the token), for the error text
}

// Error renders the error on one line: method, URL, status, fault, message and details.
func (e *ClientError) Error() string {
	var b strings.Builder
	b.WriteString("synnefo:")
	if e.Method != "" {
		b.WriteString(" " + e.Method)
	}
	if e.URL != "" {
		b.WriteString(" " + e.URL)
	}
	if e.Method != "" || e.URL != "" {
		b.WriteString(":")
	}
	if e.Status != 0 {
		b.WriteString(" " + strconv.Itoa(e.Status))
	}
	if e.Fault != "" {
		b.WriteString(" " + e.Fault)
	}
	if e.Message != "" {
		b.WriteString(" " + e.Message)
	}
	if e.Details != "" {
		d := e.Details
		if len(d) > 512 {
			d = d[:512] + "…"
		}
		b.WriteString(" (" + strings.TrimSpace(d) + ")")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying transport error, if any.
func (e *ClientError) Unwrap() error { return e.Err }

// Is matches the domain error of the reply's status (fault.Of): a 404 is
// fault.ErrNotFound, a 412 fault.ErrPrecondition… A transport error (no
// reply) is fault.ErrUnavailable unless the caller cancelled it, and also
// fault.ErrUnreachable when no server was there to answer (Unreachable).
func (e *ClientError) Is(target error) bool {
	if e.Status == 0 {
		switch target {
		case fault.ErrUnavailable:
			return e.Err != nil && !errors.Is(e.Err, context.Canceled)
		case fault.ErrUnreachable:
			return Unreachable(e.Err)
		}
		return false
	}
	k := fault.Of(e.Status)
	return k != nil && k == target
}

// StatusOf returns the HTTP status of the *ClientError in err's chain, or 0 when there is none (or it was a
// transport error).
func StatusOf(err error) int {
	var ce *ClientError
	if errors.As(err, &ce) {
		return ce.Status
	}
	return 0
}

// ReasonPhrase returns the text after the status code in an HTTP status line ("404 Not Found" → "Not Found"),
// falling back to the standard text for code.
func ReasonPhrase(status string, code int) string {
	if _, after, ok := strings.Cut(status, " "); ok && strings.TrimSpace(after) != "" {
		return strings.TrimSpace(after)
	}
	return http.StatusText(code)
}

// NewHTTPError builds the *ClientError for an HTTP reply with the given status line, code and body.
func NewHTTPError(status string, code int, body []byte) *ClientError {
	e := &ClientError{Status: code}
	reason := ReasonPhrase(status, code)
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		e.Message = reason
		return e
	}
	if fault, msg, details, ok := parseFault(trimmed); ok {
		e.Fault, e.Message, e.Details = fault, msg, details
		if e.Message == "" {
			e.Message = reason
		}
		return e
	}
	e.Message = reason
	e.Details = string(body)
	return e
}

// parseFault recognizes {"K": {"code": N, "message": "…", "details": …}}.
func parseFault(body []byte) (fault, message, details string, ok bool) {
	if body[0] != '{' {
		return "", "", "", false
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || len(top) != 1 {
		return "", "", "", false
	}
	for k, v := range top {
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(v, &inner); err != nil || inner == nil {
			return "", "", "", false
		}
		return k, jsonText(inner["message"]), jsonText(inner["details"]), true
	}
	return "", "", "", false
}

// jsonText renders a JSON value as text: strings unquoted, null/absent empty, anything else as JSON.
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return string(raw)
}

func transportError(method, url string, err error) *ClientError {
	return &ClientError{Method: method, URL: url, Message: "request failed", Err: err}
}

func decodeError(method, url string, status int, err error) *ClientError {
	return &ClientError{Method: method, URL: url, Status: status, Message: fmt.Sprintf("decoding %d reply", status), Err: err}
}
