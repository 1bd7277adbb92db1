// Package localcloudtest starts a local Synnefo cloud for one test, as
// net/http/httptest starts an HTTP server: on a 127.0.0.1 port, with its state
// in the test's temporary directory, closed when the test ends. Tests of the
// clients (astakos, pithos, cyclades, image) and of the commands use it
// instead of wiring localcloud.Start themselves; it knows only localcloud's
// exported API, nothing of its storage or handlers.
package localcloudtest

import (
	"testing"

	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

// User is an account of the cloud (localcloud.User).
type User = localcloud.User

// Config configures the cloud NewConfig starts (localcloud.Config); Dir and
// Users may be left empty.
type Config = localcloud.Config

// Alice is the first of the two accounts a cloud started without users has.
func Alice() User {
	return User{Name: "alice@example.org", UUID: "aaaaaaaa-0000-4000-8000-000000000001", Token: "alice-token"}
}

// Bob is the second of the two accounts a cloud started without users has.
func Bob() User {
	return User{Name: "bob@example.org", UUID: "bbbbbbbb-0000-4000-8000-000000000002", Token: "bob-token"}
}

// Cloud is a started local cloud. The embedded Server gives URL,
// IdentityURL, ObjectStoreURL and the Cloud itself.
type Cloud struct {
	*localcloud.Server
	// Users are the accounts, in the order given (quotas filled in).
	Users []User
	// Dir holds the cloud's state.
	Dir string
}

// User is the first account, the one most tests act as.
func (c *Cloud) User() User { return c.Users[0] }

// Token is the first account's token.
func (c *Cloud) Token() string { return c.Users[0].Token }

// New starts a cloud whose accounts are users (Alice and Bob when none are
// given). It fails the test if the cloud cannot start and closes it when the
// test and its subtests end.
func New(t testing.TB, users ...User) *Cloud {
	t.Helper()
	return NewConfig(t, Config{Users: users})
}

// NewConfig starts a cloud configured by cfg: an empty Dir is a new
// temporary directory of t, no Users means Alice and Bob.
func NewConfig(t testing.TB, cfg Config) *Cloud {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if len(cfg.Users) == 0 {
		cfg.Users = []User{Alice(), Bob()}
	}
	srv, err := localcloud.Start(cfg)
	if err != nil {
		t.Fatalf("localcloudtest: starting the local cloud: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("localcloudtest: closing the local cloud: %v", err)
		}
	})
	return &Cloud{Server: srv, Users: srv.Cloud.Users(), Dir: cfg.Dir}
}
