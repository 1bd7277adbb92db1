package integration

import (
	"testing"

	"github.com/pithosfs/pithosfs/synnefo/localcloud/localcloudtest"
)

// TestSwiftCLIAgainstLocalCloud runs the unchanged Debian `swift` client against our server's object store,
// the same scenario TestSwiftCLIAgainstSwift passes against the real Swift, with the two options real Pithos
// needs too (pithos-api.md, read off Synnefo's object_write):
//   - Pithos requires Content-Type on object PUT (411 "Missing Content-Type header") and `swift upload` sends
//     none, so uploads add --header Content-Type:application/octet-stream;
//   - Pithos answers the Merkle hash, not the MD5, as ETag (UPDATE_MD5 = False), so uploads and downloads pass
//     --ignore-checksum and the scenario compares the bytes itself.
func TestSwiftCLIAgainstLocalCloud(t *testing.T) {
	srv := localcloudtest.New(t)
	user := srv.User()
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
