package cyclades

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pithosfs/pithosfs/synnefo"
)

const testToken = "tok/+=secret"

// exchange is one expected request and the reply the fake gives to it.
type exchange struct {
	method, path, query string // path as the server decodes it, relative to the versioned endpoint
	body                string // expected JSON body (compared as JSON values); "" → none
	status              int
	reply               string
}

// scripted serves exchanges in order and fails the test on any deviation.
type scripted struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	script []exchange
	next   int
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.t
	body, _ := io.ReadAll(r.Body)
	if s.next >= len(s.script) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		w.WriteHeader(500)
		return
	}
	ex := s.script[s.next]
	s.next++
	path := strings.TrimPrefix(r.URL.Path, s.prefix)
	if r.Method != ex.method || path != ex.path || r.URL.RawQuery != ex.query {
		t.Errorf("request %d: got %s %s?%s, want %s %s?%s", s.next, r.Method, path, r.URL.RawQuery, ex.method, ex.path, ex.query)
	}
	if r.Header.Get("X-Auth-Token") != testToken {
		t.Errorf("request %d: token %q", s.next, r.Header.Get("X-Auth-Token"))
	}
	if ex.body == "" {
		if len(body) != 0 {
			t.Errorf("request %d: unexpected body %s", s.next, body)
		}
	} else {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("request %d: Content-Type %q", s.next, ct)
		}
		var got, want any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Errorf("request %d: body %s: %v", s.next, body, err)
		}
		if err := json.Unmarshal([]byte(ex.body), &want); err != nil {
			t.Fatalf("bad expected body %s: %v", ex.body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("request %d (%s %s): body\n got %s\nwant %s", s.next, r.Method, path, body, ex.body)
		}
	}
	if ex.reply != "" {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	}
	w.WriteHeader(ex.status)
	io.WriteString(w, ex.reply)
}

func (s *scripted) done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next != len(s.script) {
		s.t.Errorf("%d of %d expected requests made", s.next, len(s.script))
	}
}

// newScripted starts a fake whose published URL is base+publish and whose API lives under prefix.
func newScripted(t *testing.T, prefix string, script []exchange) (*httptest.Server, *scripted) {
	s := &scripted{t: t, prefix: prefix, script: script}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, s
}

func testOpts() synnefo.Options {
	return synnefo.Options{RetryBase: time.Millisecond, RetryMax: 2 * time.Millisecond}
}
