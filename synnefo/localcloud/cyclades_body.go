package localcloud

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// readBody decodes a JSON request body into v (§2.2).
func readBody(q *creq, v any) error {
	ct := q.r.Header.Get("Content-Type")
	if ct == "" {
		return badRequest("Missing Content-Type header field")
	}
	if !strings.HasPrefix(ct, "application/json") {
		return badRequest("Unsupported Content-type: '" + ct + "'")
	}
	data, err := io.ReadAll(io.LimitReader(q.r.Body, 4<<20))
	if err != nil {
		return badRequest("Could not read request body")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return badRequest("Invalid JSON data")
	}
	return nil
}

// bodyObject reads a body that must be {"<key>": {...}}.
func bodyObject(q *creq, key string) (map[string]json.RawMessage, error) {
	var outer map[string]json.RawMessage
	if err := readBody(q, &outer); err != nil {
		return nil, err
	}
	var inner map[string]json.RawMessage
	raw, ok := outer[key]
	if !ok || json.Unmarshal(raw, &inner) != nil || inner == nil {
		return nil, badRequest("Malformed request")
	}
	return inner, nil
}

// metadataBody reads a body that must be {"metadata": {...}} (parseMeta's
// rules).
func metadataBody(q *creq) (map[string]string, error) {
	var body map[string]json.RawMessage
	if err := readBody(q, &body); err != nil {
		return nil, err
	}
	sent, err := parseMeta(body["metadata"])
	if err != nil || body["metadata"] == nil {
		return nil, badRequest("Malformed request")
	}
	return sent, nil
}

// metaKeyBody reads the body of PUT .../metadata/{key}: {"meta": {key:
// value}} with exactly that key.
func metaKeyBody(q *creq, key string) (string, error) {
	var body map[string]json.RawMessage
	if err := readBody(q, &body); err != nil {
		return "", err
	}
	meta, err := parseMeta(body["meta"])
	if err != nil || len(meta) != 1 {
		return "", badRequest("Malformed request")
	}
	val, ok := meta[key]
	if !ok {
		return "", badRequest("Malformed request")
	}
	return val, nil
}

// str reads an optional string field; present but not a string is 400.
func str(m map[string]json.RawMessage, key string) (string, bool, error) {
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, badRequest("Malformed request: '" + key + "' must be a string")
	}
	return s, true, nil
}

// boolField reads an optional boolean.
func boolField(m map[string]json.RawMessage, key string) (bool, error) {
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, badRequest("Invalid '" + key + "' value")
	}
	return b, nil
}

// intID parses a JSON number or numeric string (Python's int()).
func intID(raw json.RawMessage) (int64, bool) {
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return n, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// parseNumID parses a numeric path id; the URL regexes only route \d+.
func parseNumID(s string) (int64, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
