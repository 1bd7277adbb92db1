package localcloud

import (
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// TestOpenFailsWhenCycladesInitFails: a database Open cannot set up (here
// the public network's subnet id is taken by a nested bucket, so storing the
// subnet fails) is Open's error, not a logged line and a cloud whose Cyclades
// requests fail later.
func TestOpenFailsWhenCycladesInitFails(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "pithos.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bSubnets)
		if err != nil {
			return err
		}
		_, err = b.CreateBucket(idKey(1))
		return err
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(Config{Dir: dir, Users: []User{userA}})
	if err == nil {
		c.Close()
		t.Fatal("Open succeeded on a database whose cyclades set-up fails")
	}
	if !errors.Is(err, berrors.ErrIncompatibleValue) {
		t.Fatalf("Open: %v, want it to wrap %v", err, berrors.ErrIncompatibleValue)
	}
	// The database is closed again: a second Open gets the same error, not
	// a lock timeout.
	if _, err2 := Open(Config{Dir: dir, Users: []User{userA}}); !errors.Is(err2, berrors.ErrIncompatibleValue) {
		t.Fatalf("second Open: %v", err2)
	}
}
