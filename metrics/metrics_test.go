package metrics

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// scrape returns the registry's text exposition.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d", rec.Code)
	}
	return rec.Body.String()
}

// value finds the sample "name{labels}" (labels exactly as exposed) in text.
func value(t *testing.T, text, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	t.Fatalf("no series %s in:\n%s", series, text)
	return 0
}

func TestService(t *testing.T) {
	for path, want := range map[string]string{
		"/pithos/object-store/v1/uuid/c/o":    "object-store",
		"/object-store/v1/uuid":               "object-store",
		"/astakos/identity/v2.0/tokens":       "identity",
		"/astakos/account/v1.0/user_catalogs": "account",
		"/cyclades/compute/v2.0/servers":      "compute",
		"/cyclades/image/v1.0/images/":        "image",
		"/v1/AUTH_test/c/o":                   "object-store",
		"/auth/v1.0":                          "identity",
		"/cyclades/network/v2.0/networks":     "network",
		"/cyclades/volume/v2.0/volumes":       "volume",
		"/something":                          "other",
	} {
		if got := Service(path); got != want {
			t.Errorf("Service(%q) = %q, want %q", path, got, want)
		}
	}
}

// fakeStore answers hashmap PUTs like Pithos: 409 with the blocks it lacks,
// 201 once it has them; block POSTs add blocks; GETs return 1000 bytes.
type fakeStore struct {
	mu     sync.Mutex
	have   map[string]bool
	reqIDs []string
}

func (f *fakeStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqIDs = append(f.reqIDs, r.Header.Get("X-Request-Id"))
	switch {
	case r.Method == "PUT" && r.URL.Query().Has("hashmap"):
		var hm hashmapBody
		if err := json.NewDecoder(r.Body).Decode(&hm); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var missing []string
		for _, h := range hm.Hashes {
			if !f.have[h] {
				missing = append(missing, h)
			}
		}
		if len(missing) > 0 {
			w.WriteHeader(409)
			_ = json.NewEncoder(w).Encode(missing)
			return
		}
		w.WriteHeader(201)
	case r.Method == "POST":
		b, _ := io.ReadAll(r.Body)
		f.have[string(b)] = true
		w.WriteHeader(202)
	case r.URL.Path == "/pithos/object-store/v1/u/c/secret":
		w.Header().Set("X-Trans-Id", "tx-server-id")
		http.Error(w, "token "+r.URL.Query().Get("X-Auth-Token")+" is bad", http.StatusServiceUnavailable)
	default:
		_, _ = w.Write(make([]byte, 1000))
	}
}

func TestTransportCountsDedupAndCommits(t *testing.T) {
	store := &fakeStore{have: map[string]bool{"a": true, "b": true}}
	srv := httptest.NewServer(store)
	defer srv.Close()
	core, logs := observer.New(zapcore.DebugLevel)
	m := New(zap.New(core))
	hc := &http.Client{Transport: m.Transport(http.DefaultTransport)}
	obj := srv.URL + "/pithos/object-store/v1/u/c/file"

	put := func(hashes []string, size int64) int {
		body, _ := json.Marshal(hashmapBody{Bytes: size, Hashes: hashes})
		req, _ := http.NewRequest("PUT", obj+"?hashmap&format=json", bytes.NewReader(body))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == 409 { // the body must still be readable by the client
			var missing []string
			if err := json.NewDecoder(resp.Body).Decode(&missing); err != nil || len(missing) == 0 {
				t.Fatalf("409 body lost: %v %v", missing, err)
			}
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const bs = 4 << 20
	// 3 blocks (last one 100 bytes): the server has a and b, lacks c.
	if got := put([]string{"a", "b", "c"}, 2*bs+100); got != 409 {
		t.Fatalf("first PUT: %d", got)
	}
	resp, err := hc.Post(srv.URL+"/pithos/object-store/v1/u/c?update", "application/octet-stream", strings.NewReader("c"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := put([]string{"a", "b", "c"}, 2*bs+100); got != 201 {
		t.Fatalf("second PUT: %d", got)
	}
	// A copy of an existing file: the first PUT succeeds, all of it saved.
	if got := put([]string{"a", "b"}, 2*bs); got != 201 {
		t.Fatalf("copy PUT: %d", got)
	}
	resp, err = hc.Get(obj)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	resp, err = hc.Get(srv.URL + "/pithos/object-store/v1/u/c/secret?X-Auth-Token=TOPSECRET&format=json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	text := scrape(t, m)
	if got := value(t, text, "pithosfs_dedup_saved_bytes_total"); got != 2*bs+2*bs {
		t.Errorf("dedup saved %v, want %v (a, b of the first commit, all of the copy)", got, 4*bs)
	}
	if got := value(t, text, `pithosfs_commit_duration_seconds_count{kind="hashmap"}`); got != 2 {
		t.Errorf("commits observed %v, want 2", got)
	}
	if got := value(t, text, `pithosfs_requests_total{service="object-store",status="409",verb="PUT"}`); got != 1 {
		t.Errorf("409 PUTs %v", got)
	}
	if got := value(t, text, `pithosfs_requests_total{service="object-store",status="201",verb="PUT"}`); got != 2 {
		t.Errorf("201 PUTs %v", got)
	}
	if got := value(t, text, `pithosfs_requests_total{service="object-store",status="503",verb="GET"}`); got != 1 {
		t.Errorf("503 GETs %v", got)
	}
	if got := value(t, text, `pithosfs_bytes_total{direction="down",service="object-store"}`); got < 1000 {
		t.Errorf("bytes down %v", got)
	}
	if got := value(t, text, `pithosfs_bytes_total{direction="up",service="object-store"}`); got < 1 {
		t.Errorf("bytes up %v", got)
	}
	if !strings.Contains(text, "process_resident_memory_bytes") {
		t.Error("no process collector")
	}

	// Every request carried a generated request id; the log names path,
	// status and id, and never the token.
	for i, id := range store.reqIDs {
		if !strings.HasPrefix(id, "pfs-") {
			t.Errorf("request %d: X-Request-Id %q", i, id)
		}
	}
	var sawServerID bool
	for _, e := range logs.All() {
		line, _ := json.Marshal(e.ContextMap())
		if strings.Contains(string(line), "TOPSECRET") || strings.Contains(e.Message, "TOPSECRET") {
			t.Errorf("token in log: %s %s", e.Message, line)
		}
		f := e.ContextMap()
		if f["path"] == nil || f["status"] == nil || f["request_id"] == nil {
			t.Errorf("log entry without path/status/request_id: %v", f)
		}
		if f["request_id"] == "tx-server-id" {
			sawServerID = true
			if e.Level != zapcore.WarnLevel || !strings.Contains(f["query"].(string), "X-Auth-Token=REDACTED") {
				t.Errorf("5xx entry: level %v query %v", e.Level, f["query"])
			}
		}
	}
	if !sawServerID {
		t.Error("the server's X-Trans-Id was not logged as the request id")
	}
}

func TestTransportErrorRedacted(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	m := New(zap.New(core))
	hc := &http.Client{Transport: m.Transport(http.DefaultTransport)}
	// Port 1 on loopback refuses: the error quotes the URL.
	_, err := hc.Get("http://127.0.0.1:1/pithos/object-store/v1/u?X-Auth-Token=TOPSECRET")
	if err == nil {
		t.Fatal("expected an error")
	}
	if logs.Len() != 1 {
		t.Fatalf("%d log entries", logs.Len())
	}
	e := logs.All()[0]
	line, _ := json.Marshal(e.ContextMap())
	if strings.Contains(string(line), "TOPSECRET") || !strings.Contains(string(line), "REDACTED") {
		t.Errorf("log entry: %s", line)
	}
	if got := value(t, scrape(t, m), `pithosfs_requests_total{service="object-store",status="error",verb="GET"}`); got != 1 {
		t.Errorf("failed requests %v", got)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"":                             "",
		"format=json":                  "format=json",
		"X-Auth-Token=abc&format=json": "X-Auth-Token=REDACTED&format=json",
		"a=1&token=t&temp_url_sig=s":   "a=1&token=REDACTED&temp_url_sig=REDACTED",
		"x%2Dauth%2Dtoken=abc":         "x%2Dauth%2Dtoken=REDACTED",
	} {
		if got := RedactQuery(in); got != want {
			t.Errorf("RedactQuery(%q) = %q, want %q", in, got, want)
		}
	}
	got := RedactURLs(`Get "http://h/p?X-Auth-Token=abc&x=1": dial tcp: refused; also http://h/q?token=zz end`)
	if strings.Contains(got, "abc") || strings.Contains(got, "zz") || !strings.Contains(got, "x=1") {
		t.Errorf("RedactURLs: %s", got)
	}
}

func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		remote bool
		ok     bool
	}{
		{"127.0.0.1:9100", false, true},
		{"[::1]:9100", false, true},
		{"localhost:9100", false, true},
		{":9100", false, false},
		{"0.0.0.0:9100", false, false},
		{"192.168.1.5:9100", false, false},
		{"example.com:9100", false, false},
		{"0.0.0.0:9100", true, true},
		{"nonsense", false, false},
	} {
		if err := CheckAddr(tc.addr, tc.remote); (err == nil) != tc.ok {
			t.Errorf("CheckAddr(%q, %v) = %v", tc.addr, tc.remote, err)
		}
	}
}

func TestServe(t *testing.T) {
	m := New(nil)
	m.GaugeFunc("pending_commits", "test", nil, func() float64 { return 3 })
	if _, err := Serve("0.0.0.0:0", false, m); err == nil {
		t.Fatal("non-loopback address accepted")
	}
	s, err := Serve("127.0.0.1:0", false, m)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := value(t, string(body), "pithosfs_pending_commits"); got != 3 {
		t.Errorf("pending %v", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// hashmapBody is what a hashmap PUT sends.
type hashmapBody struct {
	Bytes  int64    `json:"bytes"`
	Hashes []string `json:"hashes"`
}
