package localcloud

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
)

// fault is a Synnefo API error: rendered as
// {"<name>": {"code": N, "message": "...", "details": "..."}}.
type fault struct {
	Status  int
	Name    string
	Message string
	Details string
	// missing, on a hashmap PUT's 409, is replied as a bare JSON list.
	missing []string
}

func (f *fault) Error() string { return f.Name + ": " + f.Message }

func faultName(status int) string {
	switch status {
	case 400:
		return "badRequest"
	case 401:
		return "unauthorized"
	case 403:
		return "forbidden"
	case 404:
		return "itemNotFound"
	case 405:
		return "notAllowed"
	case 409:
		return "conflict"
	case 411:
		return "lengthRequired"
	case 412:
		return "preconditionFailed"
	case 413:
		return "requestEntityTooLarge"
	case 416:
		return "rangeNotSatisfiable"
	case 422:
		return "unprocessableEntity"
	case 503:
		return "serviceUnavailable"
	default:
		return "internalServerError"
	}
}

// faultBody is a fault as JSON, under its name; fields in JSON key order.
type faultBody struct {
	Code    int    `json:"code"`
	Details string `json:"details"`
	Message string `json:"message"`
}

// errf builds a fault with the conventional name for its status.
func errf(status int, msg string) *fault {
	return &fault{Status: status, Name: faultName(status), Message: msg}
}

func badRequest(msg string) *fault { return errf(400, msg) }
func notFound(msg string) *fault   { return errf(404, msg) }
func forbidden(msg string) *fault  { return errf(403, msg) }

// writeFault renders f in the format the request asked for (JSON unless XML
// was chosen).
func writeFault(w http.ResponseWriter, r *http.Request, f *fault) {
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0")
	if f.Status == 405 && h.Get("Allow") == "" {
		h.Set("Allow", "")
	}
	// A fault may follow object headers set for a reply that never came
	// (a 416 after HEAD/GET headers): its length is its own body's.
	h.Del("Content-Length")
	h.Del("Content-Range")
	if f.Status == 304 {
		w.WriteHeader(304)
		return
	}
	if f.missing != nil {
		writeJSON(w, f.Status, f.missing)
		return
	}
	if r != nil && requestFormat(r, "json") == "xml" {
		type xf struct {
			XMLName xml.Name
			Code    int    `xml:"code,attr"`
			Message string `xml:"message"`
			Details string `xml:"details"`
		}
		body, _ := xml.Marshal(xf{XMLName: xml.Name{Local: f.Name}, Code: f.Status, Message: f.Message, Details: f.Details})
		body = append([]byte(xml.Header), body...)
		h.Set("Content-Type", "application/xml; charset=UTF-8")
		h.Set("Content-Length", itoa(int64(len(body))))
		w.WriteHeader(f.Status)
		w.Write(body)
		return
	}
	body, _ := json.Marshal(map[string]faultBody{f.Name: {Code: f.Status, Details: f.Details, Message: f.Message}})
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", itoa(int64(len(body))))
	w.WriteHeader(f.Status)
	w.Write(body)
}

// requestFormat picks the serialization: format= query, then a .json/.xml
// path suffix, then the Accept header, then def (§3.2).
func requestFormat(r *http.Request, def string) string {
	switch f := r.URL.Query().Get("format"); f {
	case "json", "xml":
		return f
	}
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, ".json"):
		return "json"
	case strings.HasSuffix(p, ".xml"):
		return "xml"
	}
	accept := r.Header.Get("Accept")
	switch {
	case strings.Contains(accept, "application/json"):
		return "json"
	case strings.Contains(accept, "application/xml"):
		return "xml"
	}
	return def
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", itoa(int64(len(body))))
	w.WriteHeader(status)
	w.Write(body)
}
