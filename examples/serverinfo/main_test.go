package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/examples/internal/testcloud"
)

func TestServerInfo(t *testing.T) {
	c := testcloud.Start(t)
	srv := c.Server(t, "A Debian Server", c.Image(t, "debian.diskdump", bytes.Repeat([]byte("debian "), 1000)))
	c.Upload(t, "pithos", "lala.txt", bytes.Repeat([]byte("l"), 34))
	c.Upload(t, "pithos", "test.txt", bytes.Repeat([]byte("t"), 1232))
	if _, err := c.Pithos.CreateDirectory(testcloud.Context(t), "pithos", "testDir", nil); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(srv.ID, 10)

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"server and objects", c.Args("-server", id), 0, `Server Name: A Debian Server (OS: debian)
Objects in container pithos:
  lala.txt of 34 bytes
  test.txt of 1232 bytes
  testDir of 0 bytes
`},
		{"unknown server", c.Args("-server", "999999"), 1, "Error: Server not found.\n- error code: 404\n"},
		{"unknown container", c.Args("-server", id, "-container", "nope"), 1,
			"Server Name: A Debian Server (OS: debian)\nError: Container does not exist\n- error code: 404\n"},
		{"bad token", []string{"-url", c.URL, "-token", "not-a-token", "-server", id}, 1,
			"Failed to authenticate user token\nError: "},
		{"no cloud", []string{"-url", "", "-token", "", "-server", id}, 1, "Error: no cloud: set -url and -token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, code := testcloud.Run(t, run, tt.args...)
			if code != tt.code || !strings.HasPrefix(out, tt.want) {
				t.Fatalf("exit %d, output:\n%s\nwant exit %d, output starting with:\n%s", code, out, tt.code, tt.want)
			}
			if tt.name == "bad token" && !strings.Contains(out, "- error code: 401\n") {
				t.Fatalf("no 401 in %q", out)
			}
		})
	}
}
