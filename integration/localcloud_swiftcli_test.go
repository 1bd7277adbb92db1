package integration

import (
	"testing"

	"github.com/pithosfs/pithosfs/synnefo/localcloud"
)

// startLocalCloud starts the local cloud on a 127.0.0.1 port with its state in a temporary directory and
// returns it with its first user; it is closed when the test ends.
func startLocalCloud(t testing.TB, cfg localcloud.Config) (*localcloud.Server, localcloud.User) {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	srv, err := localcloud.Start(cfg)
	if err != nil {
		t.Fatalf("starting the local cloud: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("closing the local cloud: %v", err)
		}
	})
	users := srv.Cloud.Users()
	if len(users) == 0 {
		t.Fatal("the local cloud has no users")
	}
	return srv, users[0]
}

// TestSwiftCLIAgainstLocalCloud runs the unchanged Debian `swift` client against our server's object store,
// the same scenario TestSwiftCLIAgainstSwift passes against the real Swift, with the two options real Pithos
// needs too (pithos-api.md, read off Synnefo's object_write):
//   - Pithos requires Content-Type on object PUT (411 "Missing Content-Type header") and `swift upload` sends
//     none, so uploads add --header Content-Type:application/octet-stream;
//   - Pithos answers the Merkle hash, not the MD5, as ETag (UPDATE_MD5 = False), so uploads and downloads pass
//     --ignore-checksum and the scenario compares the bytes itself.
func TestSwiftCLIAgainstLocalCloud(t *testing.T) {
	srv, user := startLocalCloud(t, localcloud.Config{})
	upload := []string{"--ignore-checksum", "--header", "Content-Type:application/octet-stream"}
	download := []string{"--ignore-checksum"}
	t.Run("token and storage URL", func(t *testing.T) {
		runSwiftCLIScenario(t, cliTarget{
			Conn:     []string{"--os-auth-token", user.Token, "--os-storage-url", srv.ObjectStoreURL() + "/" + user.UUID},
			Upload:   upload,
			Download: download,
		})
	})
	t.Run("legacy v1.0 auth", func(t *testing.T) {
		// Pithos' dummy Swift auth: GET …/object-store/v1/ with X-Auth-User/X-Auth-Key answers the key as the
		// token and <request URL>/<user> as the storage URL.
		runSwiftCLIScenario(t, cliTarget{
			Conn:     []string{"-A", srv.ObjectStoreURL() + "/", "-U", user.UUID, "-K", user.Token},
			Upload:   upload,
			Download: download,
		})
	})
}
