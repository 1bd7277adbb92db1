package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// multiSwift is a 3-node Swift (scripts/swift-aio.sh with SWIFT_NODES=3) in its own directory on free ports.
type multiSwift struct {
	script, dir string
	env         *swiftEnv
}

func (s *multiSwift) run(t testing.TB, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.script, append(args, s.dir)...)
	cmd.Env = append(os.Environ(), "SWIFT_NODES=3", "SWIFT_PORT=0", "SWIFT_ACCOUNT_PORT=0", "SWIFT_CONTAINER_PORT=0",
		"SWIFT_OBJECT_PORT=0", "SWIFT_MEMCACHED_PORT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("swift-aio.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// startMultiSwift starts a 3-replica Swift of three object and three container servers, stopped at cleanup.
func startMultiSwift(t testing.TB) *multiSwift {
	t.Helper()
	script, err := repoFile("scripts/swift-aio.sh")
	if err != nil {
		t.Fatal(err)
	}
	s := &multiSwift{script: script, dir: t.TempDir()}
	t.Cleanup(func() {
		cmd := exec.Command(s.script, "stop", s.dir)
		_ = cmd.Run()
	})
	s.run(t, "start")
	out, err := exec.Command(s.script, "env", s.dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, f := range strings.Fields(string(out)) {
		if k, v, ok := strings.Cut(f, "="); ok {
			vars[k] = v
		}
	}
	s.env = swiftFromEnv(func(k string) string { return vars[k] })
	return s
}

// TestMountSwiftMultiNode: the mount on a 3-replica Swift writes and reads while one object server is
// stopped and after it is restarted (its replicas of what was written meanwhile are missing: no replicator
// runs), then while a container server is stopped. Every file is compared byte for byte through the mount
// and through the proxy, and listed: 0 mismatches.
func TestMountSwiftMultiNode(t *testing.T) {
	sw := startMultiSwift(t)
	hc := newHTTPClient()
	token, storage := swiftAuth(t, hc, sw.env.AuthURL, sw.env.Admin)
	container := randomName("multi")
	if resp, body := doHTTP(t, hc, http.MethodPut, storage+"/"+container, token, nil, nil); resp.StatusCode/100 != 2 {
		t.Fatalf("PUT container: %s %s", resp.Status, body)
	}
	acct := storage[strings.LastIndex(storage, "/")+1:]
	m := startMount(t, mountArgs{URL: sw.env.AuthURL, User: sw.env.Admin.Name, Token: sw.env.Admin.Key, Extra: []string{"--io-timeout", "20s"}})
	root := filepath.Join(m.Dir, acct, container)

	written := map[string][]byte{}
	mismatches := 0
	write := func(phase string, n int) {
		t.Helper()
		for i := range n {
			name := fmt.Sprintf("%s-%d.bin", phase, i)
			data := randomBytes(1<<20*(i+1) + 17*i)
			if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
				t.Fatalf("%s: writing %s: %v", phase, name, err)
			}
			written[name] = data
		}
	}
	// verify checks every file from the proxy at once, then waits for the container listing to list them all
	// (a container replica that missed updates while a server was down converges through the replicator and
	// the updater, as in a real cluster), then reads every file through the mount.
	verify := func(phase string) {
		t.Helper()
		var want []string
		for name, data := range written {
			want = append(want, name)
			resp, body := doHTTP(t, hc, http.MethodGet, storage+"/"+container+"/"+name, token, nil, nil)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
				mismatches++
				t.Errorf("%s: %s from the proxy: %s, %d bytes; want the %d written", phase, name, resp.Status, len(body), len(data))
			}
		}
		sort.Strings(want)
		start := time.Now()
		for {
			ents, err := os.ReadDir(root)
			if err != nil {
				t.Fatalf("%s: ls: %v", phase, err)
			}
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			if strings.Join(names, " ") == strings.Join(want, " ") {
				break
			}
			if time.Since(start) > 90*time.Second {
				t.Fatalf("%s: ls = %v after 90s, want %v", phase, names, want)
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Logf("%s: listing complete after %v", phase, time.Since(start).Round(100*time.Millisecond))
		for name, data := range written {
			got, err := os.ReadFile(filepath.Join(root, name))
			if err != nil || !bytes.Equal(got, data) {
				mismatches++
				t.Errorf("%s: %s through the mount: %d bytes, %v; want the %d written", phase, name, len(got), err, len(data))
			}
		}
	}

	write("before", 2)
	sw.run(t, "kill", "object2")
	write("object2-down", 3)
	verify("object2 down")
	sw.run(t, "revive", "object2")
	write("object2-back", 2)
	verify("object2 back")
	sw.run(t, "kill", "container3")
	write("container3-down", 3)
	verify("container3 down")
	sw.run(t, "revive", "container3")
	verify("container3 back")
	t.Logf("%d files, %d mismatches", len(written), mismatches)
	if mismatches != 0 {
		t.Errorf("%d mismatches", mismatches)
	}
}
