package localcloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveProc is a `pithosfs serve` subprocess.
type serveProc struct {
	cmd *exec.Cmd
	out *bytes.Buffer
	url string
}

func startServe(t *testing.T, bin, dir, users string, port int, blockSize int64) *serveProc {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := &serveProc{out: &bytes.Buffer{}, url: "http://" + addr}
	p.cmd = exec.Command(bin, "serve", "--data", dir, "--listen", addr, "--users", users, "--block-size", fmt.Sprint(blockSize))
	p.cmd.Stdout, p.cmd.Stderr = &lockedWriter{w: p.out}, &lockedWriter{w: p.out}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("HEAD", p.url+"/pithos/object-store/v1/"+userA.UUID, nil)
		req.Header.Set("X-Auth-Token", userA.Token)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == 204 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.kill()
	t.Fatalf("pithosfs serve did not come up: %s", p.out)
	return nil
}

// kill sends SIGKILL and reaps the process.
func (p *serveProc) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Kill -9 durability: committed objects survive intact; an upload killed
// midway is either absent or leaves the previous version, never half.
func TestKillDashNineDurability(t *testing.T) {
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "pithosfs")
	build := exec.Command("go", "build", "-o", bin, "github.com/pithosfs/pithosfs/cmd/pithosfs")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(tmp, "data")
	users := filepath.Join(tmp, "users.json")
	ub, _ := json.Marshal([]User{userA})
	if err := os.WriteFile(users, ub, 0o600); err != nil {
		t.Fatal(err)
	}
	const bs = 64 << 10
	port := freePort(t)
	rng := rand.New(rand.NewPCG(1, 2))
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	committed := map[string][]byte{}
	srv := startServe(t, bin, data, users, port, bs)
	e := &env{t: t, base: srv.url + "/pithos/object-store/v1", hc: &http.Client{Timeout: 60 * time.Second}}
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)

	// Phase 1: kill right after several committed PUTs (data, hashmap,
	// copy, meta POST, data POST).
	for i := 0; i < 8; i++ {
		name := fmt.Sprintf("obj%d", i)
		committed[name] = randBytes(1 + rng.IntN(5*bs))
		e.put("/{a}/c/"+name, string(committed[name]), map[string]string{"X-Object-Meta-I": fmt.Sprint(i)})
	}
	e.must(e.do("PUT", "/{a}/c/copy", map[string]string{"X-Copy-From": "/c/obj1"}, ""), 201)
	committed["copy"] = committed["obj1"]
	e.must(e.do("PUT", "/{a}/c/moved", map[string]string{"X-Move-From": "/c/obj2"}, ""), 201)
	committed["moved"] = committed["obj2"]
	delete(committed, "obj2")
	e.must(e.do("POST", "/{a}/c/obj3?update", map[string]string{"Content-Type": "application/octet-stream", "Content-Range": "bytes */*"}, "tail"), 204)
	committed["obj3"] = append(append([]byte{}, committed["obj3"]...), "tail"...)
	committed["victim"] = randBytes(3*bs + 17)
	e.put("/{a}/c/victim", string(committed["victim"]), nil)
	srv.kill()

	srv = startServe(t, bin, data, users, port, bs)
	checkCommitted(t, e, committed, bs)

	// Phase 2: kill in the middle of two large chunked uploads (one replacing
	// victim, one new), and of a hashmap/block flow.
	const big = 48 << 20
	var wg sync.WaitGroup
	sent := make(chan int64, 2)
	upload := func(name string) {
		defer wg.Done()
		pr, pw := io.Pipe()
		go func() {
			buf := make([]byte, 256<<10)
			var n int64
			for n < big {
				for i := range buf {
					buf[i] = byte(n) + byte(i)
				}
				if _, err := pw.Write(buf); err != nil {
					break
				}
				n += int64(len(buf))
				if n == 8<<20 {
					sent <- n
				}
			}
			pw.Close()
		}()
		req, _ := http.NewRequest("PUT", e.base+"/"+userA.UUID+"/c/"+name, pr)
		req.Header.Set("X-Auth-Token", userA.Token)
		req.Header.Set("Content-Type", "application/octet-stream")
		res, err := e.hc.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 201 {
				t.Errorf("upload of %s finished before the kill", name)
			}
		}
		pr.CloseWithError(io.ErrClosedPipe)
	}
	wg.Add(2)
	go upload("victim")
	go upload("newbig")
	for i := 0; i < 2; i++ {
		select {
		case <-sent:
		case <-time.After(60 * time.Second):
			srv.kill()
			t.Fatalf("uploads did not get going: %s", srv.out)
		}
	}
	srv.kill()
	wg.Wait()

	srv = startServe(t, bin, data, users, port, bs)
	checkCommitted(t, e, committed, bs)
	e.must(e.do("HEAD", "/{a}/c/newbig", nil, ""), 404)
	// Temporary block files of the killed uploads were cleaned up.
	if ents, _ := os.ReadDir(filepath.Join(data, "tmp")); len(ents) != 0 {
		t.Errorf("%d temporary files left after restart", len(ents))
	}
	// The restarted server still takes writes.
	e.put("/{a}/c/after", "after", nil)
	committed["after"] = []byte("after")
	srv.kill()
	srv = startServe(t, bin, data, users, port, bs)
	checkCommitted(t, e, committed, bs)
	srv.kill()
}

// checkCommitted verifies that exactly the committed objects exist, with
// their bytes, hashes and consistent container counters.
func checkCommitted(t *testing.T, e *env, committed map[string][]byte, bs int) {
	t.Helper()
	var want []string
	var total int64
	for name, data := range committed {
		want = append(want, name)
		total += int64(len(data))
		r := e.must(e.do("GET", "/{a}/c/"+name, nil, ""), 200)
		if !bytes.Equal(r.body, data) {
			t.Errorf("%s: %d bytes back, want %d (equal prefix: %v)", name, len(r.body), len(data), bytes.HasPrefix(data, r.body))
			continue
		}
		hm := e.hashmap("/{a}/c/" + name)
		if fmt.Sprint(hm.Hashes) != fmt.Sprint(refHashes(data, bs)) || r.h.Get("X-Object-Hash") != refTop(hm.Hashes) {
			t.Errorf("%s: hashmap does not match the bytes", name)
		}
	}
	got := strings.Split(strings.TrimSpace(string(e.must(e.do("GET", "/{a}/c", nil, ""), 200).body)), "\n")
	if len(got) != len(want) {
		t.Errorf("listing %v, want %d objects", got, len(want))
	}
	h := e.must(e.do("HEAD", "/{a}/c", nil, ""), 204).h
	if h.Get("X-Container-Object-Count") != fmt.Sprint(len(want)) || h.Get("X-Container-Bytes-Used") != fmt.Sprint(total) {
		t.Errorf("counters %s objects %s bytes, want %d / %d", h.Get("X-Container-Object-Count"), h.Get("X-Container-Bytes-Used"), len(want), total)
	}
}

// A client that goes away mid-body commits nothing: neither a new object
// nor a truncated version of an existing one (sized and chunked bodies,
// object PUT and data POST).
func TestClientAbortCommitsNothing(t *testing.T) {
	e := newEnv(t, 4)
	e.must(e.do("PUT", "/{a}/c", nil, ""), 201)
	e.put("/{a}/c/keep", "original", nil)
	hdr := "Host: x\nX-Auth-Token: tokA\nContent-Type: application/octet-stream\n"
	for _, tc := range []struct{ name, text string }{
		{"sized new", "PUT /pithos/object-store/v1/{a}/c/new HTTP/1.1\n" + hdr + "Content-Length: 100\n\n0123456789"},
		{"chunked new", "PUT /pithos/object-store/v1/{a}/c/new HTTP/1.1\n" + hdr + "Transfer-Encoding: chunked\n\na\n0123456789\n"},
		{"sized replace", "PUT /pithos/object-store/v1/{a}/c/keep HTTP/1.1\n" + hdr + "Content-Length: 100\n\n0123456789"},
		{"chunked replace", "PUT /pithos/object-store/v1/{a}/c/keep HTTP/1.1\n" + hdr + "Transfer-Encoding: chunked\n\n5\nabcde\n"},
		{"chunked append", "POST /pithos/object-store/v1/{a}/c/keep?update HTTP/1.1\n" + hdr + "Content-Range: bytes */*\nTransfer-Encoding: chunked\n\n5\nabcde\n"},
		{"sized append", "POST /pithos/object-store/v1/{a}/c/keep?update HTTP/1.1\n" + hdr + "Content-Range: bytes */*\nContent-Length: 50\n\nabcde"},
	} {
		host := strings.TrimPrefix(e.srv.URL, "http://")
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, strings.ReplaceAll(expand(tc.text), "\n", "\r\n"))
		time.Sleep(100 * time.Millisecond)
		conn.Close()
		time.Sleep(100 * time.Millisecond)
		if r := e.do("HEAD", "/{a}/c/new", nil, ""); r.code != 404 {
			t.Errorf("%s: a truncated object was committed: %v", tc.name, r.h)
		}
		if got := e.get("/{a}/c/keep"); got != "original" {
			t.Errorf("%s: keep = %q", tc.name, got)
		}
	}
}
