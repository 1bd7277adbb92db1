package synnefo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// A PUT marked NotIdempotent (a server-side move) is not replayed after a
// 5xx or a dropped reply, while a plain PUT is.
func TestNotIdempotentPutIsNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name  string
		noRep bool
		want  int32
	}{{"plain PUT retried", false, 3}, {"move not retried", true, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hits.Add(1) < 3 {
					w.WriteHeader(503)
					return
				}
				w.WriteHeader(201)
			}))
			defer srv.Close()
			c, err := NewClient(srv.URL, "tok", Options{RetryBase: 1, RetryMax: 1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Do(context.Background(), &Request{Method: http.MethodPut, Path: "/a", NotIdempotent: tc.noRep})
			if got := hits.Load(); got != tc.want {
				t.Fatalf("requests = %d, want %d (err %v)", got, tc.want, err)
			}
			if tc.noRep && StatusOf(err) != 503 {
				t.Fatalf("err = %v, want a 503 ClientError", err)
			}
		})
	}
}
