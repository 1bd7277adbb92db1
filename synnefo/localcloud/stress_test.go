package localcloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Paging across more than 10 000 objects following marker (§4, §7).
func TestPagingBeyondTenThousand(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.must(e.do("POST", "/{a}/c?update", map[string]string{"Content-Type": "application/octet-stream"}, "blk"), 202)
	body := hashmapJSON(3, []string{refBlockHash([]byte("blk"))})
	const n = 10050
	name := func(i int) string {
		// Some names with a delimiter and non-ASCII, to page through them too.
		switch i % 10 {
		case 3:
			return fmt.Sprintf("d%03d/obj-%05d", i%7, i)
		case 7:
			return fmt.Sprintf("é-%05d", i)
		}
		return fmt.Sprintf("obj-%05d", i)
	}
	// Most objects go in through one store transaction (10 000 fsync'd
	// commits would take most of a minute under -race); a few hundred,
	// spread over the name space, through hashmap PUTs in parallel.
	start := time.Now()
	blk := refBlockHash([]byte("blk"))
	err := e.srv.Cloud.store.update(func(tx *txn) error {
		cr, _ := tx.container(userA.UUID, "c")
		for i := 0; i < n; i++ {
			if i%40 == 0 {
				continue
			}
			rec := &objectRec{version: version{Bytes: 3, Hashes: []string{blk}, Type: "application/octet-stream", ModifiedBy: userA.UUID}}
			if err := tx.putObject(userA.UUID, "c", name(i), cr, rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w * 40; i < n; i += 4 * 40 {
				r, err := e.try("PUT", "/{a}/c/"+url.PathEscape(name(i))+"?hashmap&format=json", map[string]string{"Content-Type": "application/octet-stream"}, body)
				if err != nil || r.code != 201 {
					errs <- fmt.Errorf("PUT %s: %v %v", name(i), r, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d objects in %v", n, time.Since(start))
	if got := e.must(e.do("HEAD", "/{a}/c", nil, ""), 204).h.Get("X-Container-Object-Count"); got != fmt.Sprint(n) {
		t.Fatalf("count %s", got)
	}
	// Default page and the cap are 10000.
	for _, q := range []string{"", "&limit=20000"} {
		if rows := e.list("/{a}/c?format=json"+q, userA.Token); len(rows) != 10000 {
			t.Errorf("?%s: page of %d", q, len(rows))
		}
	}
	// Text pages of 3000, then JSON pages of 10000: every name once, in order.
	for _, pg := range []struct {
		limit int
		json  bool
	}{{3000, false}, {10000, true}} {
		seen := map[string]bool{}
		var all []string
		marker := ""
		for pages := 0; pages < 20; pages++ {
			path := fmt.Sprintf("/{a}/c?limit=%d&marker=%s", pg.limit, url.QueryEscape(marker))
			var got []string
			if pg.json {
				path += "&format=json"
				got = names(e.list(path, userA.Token))
			} else {
				r := e.do("GET", path, nil, "")
				if r.code == 204 {
					break
				}
				e.must(r, 200)
				got = strings.Split(strings.TrimSuffix(string(r.body), "\n"), "\n")
			}
			if len(got) == 0 {
				break
			}
			for _, nm := range got {
				if seen[nm] {
					t.Fatalf("limit %d: %q twice", pg.limit, nm)
				}
				seen[nm] = true
				all = append(all, nm)
			}
			marker = got[len(got)-1]
			if len(got) < pg.limit {
				break
			}
		}
		if len(all) != n {
			t.Fatalf("limit %d: %d names, want %d", pg.limit, len(all), n)
		}
		for i := 1; i < len(all); i++ {
			if all[i-1] >= all[i] {
				t.Fatalf("order: %q before %q", all[i-1], all[i])
			}
		}
		for i := 0; i < n; i++ {
			if !seen[name(i)] {
				t.Fatalf("missing %q", name(i))
			}
		}
	}
	// With a delimiter the d??? names roll up.
	rows := e.list("/{a}/c?format=json&delimiter=/&prefix=d00", userA.Token)
	if len(rows) != 0 {
		t.Errorf("prefix d00 + delimiter: %v", names(rows))
	}
	rows = e.list("/{a}/c?format=json&delimiter=/&limit=10000&marker=d", userA.Token)
	if got := names(rows)[:7]; strings.Join(got, " ") != "subdir:d000/ subdir:d001/ subdir:d002/ subdir:d003/ subdir:d004/ subdir:d005/ subdir:d006/" {
		t.Errorf("subdirs %v", got)
	}
}

// try is req without failing the test (for goroutines).
func (e *env) try(method, path string, hdr map[string]string, body string) (*resp, error) {
	r, err := newRequest(e, method, path, userA.Token, hdr, body)
	if err != nil {
		return nil, err
	}
	res, err := e.hc.Do(r)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(res.Body); err != nil {
		return nil, err
	}
	return &resp{code: res.StatusCode, h: res.Header, body: buf.Bytes()}, nil
}

// Concurrent writers to one object: afterwards it is exactly one of the
// written contents with matching hashmap; readers never see a torn object.
func TestConcurrentWritersOneObject(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	const writers, rounds = 6, 15
	contents := map[string]bool{}
	var list []string
	for w := 0; w < writers; w++ {
		// Different lengths and blocks, so a mix would show.
		c := strings.Repeat(string(rune('A'+w)), 37+w*11)
		contents[c] = true
		list = append(list, c)
	}
	e.put("/{a}/c/o", list[0], nil)
	var wg sync.WaitGroup
	errs := make(chan error, writers+2)
	stop := make(chan struct{})
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				r, err := e.try("PUT", "/{a}/c/o", map[string]string{"Content-Type": "text/plain", "X-Object-Meta-Writer": fmt.Sprint(w)}, list[w])
				if err != nil || r.code != 201 {
					errs <- fmt.Errorf("writer %d: %v %v", w, r, err)
					return
				}
			}
		}(w)
	}
	var rg sync.WaitGroup
	for rd := 0; rd < 2; rd++ {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := e.try("GET", "/{a}/c/o", nil, "")
				if err != nil || r.code != 200 {
					errs <- fmt.Errorf("reader: %v %v", r, err)
					return
				}
				if !contents[string(r.body)] || r.h.Get("ETag") != refTop(refHashes(r.body, 4)) {
					errs <- fmt.Errorf("reader saw a torn object: %q etag %s", r.body, r.h.Get("ETag"))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r := e.must(e.do("GET", "/{a}/c/o", nil, ""), 200)
	if !contents[string(r.body)] {
		t.Fatalf("final object %q is none of the writes", r.body)
	}
	w := strings.IndexByte("ABCDEFGH", r.body[0])
	if r.h.Get("X-Object-Meta-Writer") != fmt.Sprint(w) {
		t.Errorf("data of writer %d with meta of %s", w, r.h.Get("X-Object-Meta-Writer"))
	}
	hm := e.hashmap("/{a}/c/o")
	if fmt.Sprint(hm.Hashes) != fmt.Sprint(refHashes(r.body, 4)) || hm.Bytes != int64(len(r.body)) || r.h.Get("X-Object-Hash") != refTop(hm.Hashes) {
		t.Errorf("hashmap %+v does not match the bytes %q", hm, r.body)
	}
	// Every PUT made a version (auto versioning) and counters stayed right.
	var vl struct {
		Versions [][]any `json:"versions"`
	}
	json.Unmarshal(e.must(e.do("GET", "/{a}/c/o?version=list&format=json", nil, ""), 200).body, &vl)
	if len(vl.Versions) != writers*rounds+1 {
		t.Errorf("%d versions, want %d", len(vl.Versions), writers*rounds+1)
	}
	h := e.must(e.do("HEAD", "/{a}/c", nil, ""), 204).h
	if h.Get("X-Container-Object-Count") != "1" || h.Get("X-Container-Bytes-Used") != fmt.Sprint(len(r.body)) {
		t.Errorf("container counters %v", h)
	}
}

// Concurrent hashmap PUT → 409 → block upload → PUT flows, with blocks
// shared between the uploads.
func TestConcurrentHashmapUploads(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	const uploaders = 8
	data := func(u int) []byte {
		// Shared blocks ("SHRD") and per-uploader ones, plus a zero tail.
		return []byte(fmt.Sprintf("SHRDu%03dSHRDx%03d\x00\x00", u, u*7))
	}
	var wg sync.WaitGroup
	errs := make(chan error, uploaders)
	for u := 0; u < uploaders; u++ {
		wg.Add(1)
		go func(u int) {
			defer wg.Done()
			d := data(u)
			hashes := refHashes(d, 4)
			blocks := map[string][]byte{}
			for i := 0; i < len(d); i += 4 {
				blocks[hashes[i/4]] = d[i:min(i+4, len(d))]
			}
			path := fmt.Sprintf("/{a}/c/up%d?hashmap&format=json", u)
			for round := 0; round < 5; round++ {
				r, err := e.try("PUT", path, map[string]string{"Content-Type": "application/octet-stream"}, hashmapJSON(len(d), hashes))
				if err != nil {
					errs <- err
					return
				}
				if r.code == 201 {
					if r.h.Get("ETag") != refTop(hashes) {
						errs <- fmt.Errorf("uploader %d: ETag %s", u, r.h.Get("ETag"))
					}
					return
				}
				if r.code != 409 {
					errs <- fmt.Errorf("uploader %d: %v", u, r)
					return
				}
				var missing []string
				if err := json.Unmarshal(r.body, &missing); err != nil || len(missing) == 0 {
					errs <- fmt.Errorf("uploader %d: 409 body %q", u, r.body)
					return
				}
				for _, h := range missing {
					b, ok := blocks[h]
					if !ok {
						errs <- fmt.Errorf("uploader %d: server wants unknown block %s", u, h)
						return
					}
					up, err := e.try("POST", "/{a}/c?update&format=json", map[string]string{"Content-Type": "application/octet-stream"}, string(b))
					if err != nil || up.code != 202 || string(up.body) != fmt.Sprintf("[%q]", h) {
						errs <- fmt.Errorf("uploader %d: block POST %v %v", u, up, err)
						return
					}
				}
			}
			errs <- fmt.Errorf("uploader %d: no 201 after 5 rounds", u)
		}(u)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for u := 0; u < uploaders; u++ {
		if got := e.must(e.do("GET", fmt.Sprintf("/{a}/c/up%d", u), nil, ""), 200).body; !bytes.Equal(got, data(u)) {
			t.Errorf("up%d = %q", u, got)
		}
	}
}

func newRequest(e *env, method, path, tok string, hdr map[string]string, body string) (*http.Request, error) {
	var rd io.Reader
	if body != "" || method == "PUT" || method == "POST" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, e.base+expand(path), rd)
	if err != nil {
		return nil, err
	}
	r.Header.Set("X-Auth-Token", tok)
	for k, v := range hdr {
		r.Header[k] = []string{expand(v)}
	}
	return r, nil
}
