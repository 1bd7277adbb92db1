package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// store is the object store under test, spoken to directly.
type store struct {
	storageURL, token string
	hc                *http.Client
	// pithosfs mount arguments and rclone's backend configuration.
	mountArgs []string
	rcloneEnv []string
	stop      func()
}

func (s *store) do(method, path string, body io.Reader, size int64, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequest(method, s.storageURL+"/"+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
	}
	req.Header.Set("X-Auth-Token", s.token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return s.hc.Do(req)
}

func (s *store) must(method, path string, body io.Reader, size int64, hdr map[string]string) error {
	resp, err := s.do(method, path, body, size, hdr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return nil
}

func (s *store) size(path string) int64 {
	resp, err := s.do(http.MethodHead, path, nil, 0, nil)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return -1
	}
	return resp.ContentLength
}

// count lists a container (all pages) and returns how many objects it
// has below prefix.
func (s *store) count(container, prefix string) (int, error) {
	n, marker := 0, ""
	for {
		resp, err := s.do(http.MethodGet, container+"?format=json&limit=10000&prefix="+url.QueryEscape(prefix)+"&marker="+url.QueryEscape(marker), nil, 0, nil)
		if err != nil {
			return 0, err
		}
		var page []struct {
			Name string `json:"name"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		n += len(page)
		if len(page) < 10000 {
			return n, nil
		}
		marker = page[len(page)-1].Name
	}
}

func openStore(c config) (*store, error) {
	s := &store{hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	switch c.target {
	case "swift":
		req, _ := http.NewRequest(http.MethodGet, c.authURL, nil)
		req.Header.Set("X-Auth-User", c.user)
		req.Header.Set("X-Auth-Key", c.key)
		resp, err := s.hc.Do(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		s.storageURL, s.token = resp.Header.Get("X-Storage-Url"), resp.Header.Get("X-Auth-Token")
		if s.storageURL == "" {
			return nil, fmt.Errorf("swift auth at %s: %s", c.authURL, resp.Status)
		}
		s.mountArgs = []string{"--url", c.authURL, "--user", c.user, "--token", c.key}
		s.rcloneEnv = []string{"RCLONE_CONFIG_BENCH_TYPE=swift", "RCLONE_CONFIG_BENCH_AUTH=" + c.authURL,
			"RCLONE_CONFIG_BENCH_USER=" + c.user, "RCLONE_CONFIG_BENCH_KEY=" + c.key}
		s.stop = func() {}
		return s, nil
	case "serve":
		dir := filepath.Join(c.work, "serve")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		const uuid, token = "be0c0000-0000-4000-8000-000000000001", "bench-token-0001"
		users := filepath.Join(dir, "users.json")
		if err := os.WriteFile(users, []byte(`[{"name":"bench@example.org","uuid":"`+uuid+`","token":"`+token+`"}]`), 0o600); err != nil {
			return nil, err
		}
		cmd := exec.Command(c.bin, "--log-level", "warn", "serve", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--users", users)
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		urlc := make(chan string, 1)
		go func() {
			buf := make([]byte, 4096)
			var acc []byte
			for {
				n, err := out.Read(buf)
				acc = append(acc, buf[:n]...)
				if i := bytes.Index(acc, []byte(" on http://")); i >= 0 {
					if j := bytes.IndexByte(acc[i:], '\n'); j > 0 {
						urlc <- string(acc[i+4 : i+j])
						_, _ = io.Copy(io.Discard, out)
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		var base string
		select {
		case base = <-urlc:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			return nil, errors.New("pithosfs serve did not start")
		}
		s.storageURL, s.token = base+"/pithos/object-store/v1/"+uuid, token
		s.mountArgs = []string{"--url", base + "/astakos/identity/v2.0", "--token", token}
		s.rcloneEnv = []string{"RCLONE_CONFIG_BENCH_TYPE=swift", "RCLONE_CONFIG_BENCH_STORAGE_URL=" + s.storageURL,
			"RCLONE_CONFIG_BENCH_AUTH_TOKEN=" + token}
		s.stop = func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }
		return s, nil
	}
	return nil, fmt.Errorf("unknown target %q", c.target)
}

// fill creates n small objects in container, 32 at a time.
func fill(s *store, container string, n int) error {
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	sem := make(chan struct{}, 32)
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			body := []byte(fmt.Sprintf("object %d\n", i))
			if err := s.must(http.MethodPut, fmt.Sprintf("%s/o%05d.txt", container, i), bytes.NewReader(body), int64(len(body)),
				map[string]string{"Content-Type": "text/plain"}); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}(i)
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// putDir PUTs every file of dir as prefix/NAME, one after the other on one
// connection: the raw cost of the files' uploads without parallelism.
func putDir(s *store, prefix, dir string) error {
	es, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range es {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if err := s.must(http.MethodPut, prefix+"/"+e.Name(), bytes.NewReader(data), int64(len(data)),
			map[string]string{"Content-Type": "application/octet-stream"}); err != nil {
			return err
		}
	}
	return nil
}
