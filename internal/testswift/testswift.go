// Package testswift finds or starts the real OpenStack Swift that tests compare with (scripts/swift-aio.sh),
// for the test binaries of pithos and integration. A test binary calls Find once (lazily, from the first
// test that needs Swift) and calls the returned stop from TestMain, so a Swift it started never outlives it.
package testswift

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Vars are the SWIFT_* variables of `swift-aio.sh env`: SWIFT_AUTH_URL, SWIFT_USER, SWIFT_KEY, SWIFT_USER2,
// SWIFT_KEY2, SWIFT_USER3, SWIFT_KEY3.
type Vars map[string]string

// Find returns the Swift to use, in this order:
//   - SWIFT_AUTH_URL set (make test and CI export it): the environment's variables; stop is nil.
//   - a Swift ready in swift-aio.sh's default directory (one kept running by hand): that one, left running.
//   - otherwise it starts one in a new temporary directory on free ports, so it collides with nothing that
//     runs (another test binary's, systemd's memcached); stop stops it and removes the directory.
//
// script is the path of scripts/swift-aio.sh (see ScriptPath).
func Find(ctx context.Context, script string) (vars Vars, stop func() error, err error) {
	if os.Getenv("SWIFT_AUTH_URL") != "" {
		vars = Vars{}
		for _, k := range []string{"SWIFT_AUTH_URL", "SWIFT_USER", "SWIFT_KEY", "SWIFT_USER2", "SWIFT_KEY2", "SWIFT_USER3", "SWIFT_KEY3"} {
			if v := os.Getenv(k); v != "" {
				vars[k] = v
			}
		}
		return vars, nil, nil
	}
	if _, err := run(ctx, nil, script, "status"); err == nil {
		vars, err := env(ctx, script)
		return vars, nil, err
	}
	dir, err := os.MkdirTemp("", "pithosfs-test-swift.")
	if err != nil {
		return nil, nil, err
	}
	stop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := run(ctx, nil, script, "stop", dir)
		if err != nil {
			return fmt.Errorf("%s stop %s: %w\n%s", script, dir, err, out)
		}
		return os.RemoveAll(dir)
	}
	free := []string{"SWIFT_PORT=0", "SWIFT_ACCOUNT_PORT=0", "SWIFT_CONTAINER_PORT=0", "SWIFT_OBJECT_PORT=0", "SWIFT_MEMCACHED_PORT=0"}
	if out, err := run(ctx, free, script, "start", dir); err != nil {
		return nil, nil, errors.Join(fmt.Errorf("%s start %s: %w\n%s", script, dir, err, out), stop())
	}
	vars, err = env(ctx, script, dir)
	if err != nil {
		return nil, nil, errors.Join(err, stop())
	}
	return vars, stop, nil
}

func env(ctx context.Context, script string, dir ...string) (Vars, error) {
	out, err := run(ctx, nil, script, append([]string{"env"}, dir...)...)
	if err != nil {
		return nil, fmt.Errorf("%s env: %w\n%s", script, err, out)
	}
	vars, err := ParseExports(string(out))
	if err != nil {
		return nil, fmt.Errorf("%s env: %w", script, err)
	}
	return vars, nil
}

// ParseExports reads the `export K=V K=V …` line that `swift-aio.sh env` prints.
func ParseExports(s string) (Vars, error) {
	vars := Vars{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "export" {
			continue
		}
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return nil, fmt.Errorf("malformed export %q", f)
			}
			vars[k] = v
		}
	}
	if vars["SWIFT_AUTH_URL"] == "" {
		return nil, fmt.Errorf("no SWIFT_AUTH_URL in %q", s)
	}
	return vars, nil
}

func run(ctx context.Context, env []string, script string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	return cmd.CombinedOutput()
}

// ScriptPath is scripts/swift-aio.sh of the module that holds the working directory (the first parent
// with a go.mod).
func ScriptPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "scripts", "swift-aio.sh"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
