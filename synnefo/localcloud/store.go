package localcloud

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
)

// The database holds every name and all metadata; block files hold data.
// Keys join account, container and object name with NUL bytes (names with a
// NUL are rejected), so bbolt's byte order is the listing order.
var (
	bAccounts   = []byte("accounts")   // account -> accountRec
	bContainers = []byte("containers") // account\0container -> containerRec
	bObjects    = []byte("objects")    // account\0container\0name -> objectRec (current version)
	bVersions   = []byte("versions")   // account\0container\0name\0<id:8> -> version (history, incl. current)
	bShared     = []byte("shared")     // account\0container\0name -> "" for objects with sharing set
	bPublic     = []byte("public")     // public id -> account\0container\0name
	bMeta       = []byte("meta")       // sequence for version ids; other bucket-wide state
	bMetaHist   = []byte("metahist")   // "a"\0account\0<ns:8> or "c"\0account\0container\0<ns:8> -> meta then
)

type accountRec struct {
	Meta   map[string]string   `json:"meta,omitempty"`
	Groups map[string][]string `json:"groups,omitempty"`
	Mtime  int64               `json:"mtime"`
}

type containerRec struct {
	Meta       map[string]string `json:"meta,omitempty"`
	Quota      int64             `json:"quota"`
	Versioning string            `json:"versioning"`
	Project    string            `json:"project"`
	Mtime      int64             `json:"mtime"`
	Created    int64             `json:"created,omitempty"` // unix ns; 0 in databases from before it was kept
	Count      int64             `json:"count"`
	Bytes      int64             `json:"bytes"`
	MetaKeys   map[string]int64  `json:"meta_keys,omitempty"` // user meta key -> objects using it
}

// countMeta adds d to the container's usage count of each user meta key.
func (c *containerRec) countMeta(meta map[string]string, d int64) {
	for k := range meta {
		k, ok := strings.CutPrefix(k, "X-Object-Meta-")
		if !ok {
			continue
		}
		if c.MetaKeys == nil {
			c.MetaKeys = map[string]int64{}
		}
		c.MetaKeys[k] += d
		if c.MetaKeys[k] <= 0 {
			delete(c.MetaKeys, k)
		}
	}
}

// version is one version of an object: its data (hashmap) and metadata.
type version struct {
	ID         uint64            `json:"id"`
	UUID       string            `json:"uuid"`
	Bytes      int64             `json:"bytes"`
	Hashes     []string          `json:"hashes"`
	Type       string            `json:"type"`
	Meta       map[string]string `json:"meta,omitempty"` // full header names: X-Object-Meta-*, Content-Encoding, …
	Mtime      int64             `json:"mtime"`          // unix nanoseconds
	ModifiedBy string            `json:"by"`
	MD5        string            `json:"md5,omitempty"`
	Deleted    bool              `json:"deleted,omitempty"`
}

// objectRec is the current state of an object name.
type objectRec struct {
	version
	Sharing *perms `json:"sharing,omitempty"`
	Public  string `json:"public,omitempty"`
}

type perms struct {
	Read  []string `json:"read,omitempty"`
	Write []string `json:"write,omitempty"`
}

type store struct {
	db        *bolt.DB
	blocks    *blockStore
	blockSize int64
	now       func() int64 // unix nanoseconds
	cloud     *Cloud       // users and projects, for quota
	recs      *recCache    // decoded records of large objects
}

func openStore(dir string, blockSize int64) (*store, error) {
	db, err := bolt.Open(filepath.Join(dir, "pithos.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("localcloud: open database: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bAccounts, bContainers, bObjects, bVersions, bShared, bPublic, bMeta, bMetaHist, bProjects, bMemberships, bApplications, bCommissions, bHoldings} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("localcloud: init database: %w", err)
	}
	bs, err := openBlockStore(dir)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &store{db: db, blocks: bs, blockSize: blockSize, now: func() int64 { return time.Now().UnixNano() },
		recs: newRecCache(recCacheBytes)}, nil
}

func (s *store) close() error { return s.db.Close() }

// view and update run fn in a read-only or read-write transaction; an error
// from fn rolls the whole transaction back.
func (s *store) view(fn func(t *txn) error) error {
	return s.db.View(func(tx *bolt.Tx) error { return fn(&txn{tx: tx, s: s}) })
}

func (s *store) update(fn func(t *txn) error) error {
	return s.db.Update(func(tx *bolt.Tx) error { return fn(&txn{tx: tx, s: s}) })
}

type txn struct {
	tx *bolt.Tx
	s  *store
}

func ckey(acct, cont string) []byte { return []byte(acct + "\x00" + cont) }
func okey(acct, cont, name string) []byte {
	return []byte(acct + "\x00" + cont + "\x00" + name)
}
func vkey(ok []byte, id uint64) []byte {
	k := make([]byte, len(ok)+9)
	copy(k, ok)
	binary.BigEndian.PutUint64(k[len(ok)+1:], id)
	return k
}

func getJSON(b *bolt.Bucket, key []byte, v any) bool {
	data := b.Get(key)
	if data == nil {
		return false
	}
	if err := json.Unmarshal(data, v); err != nil {
		panic(fmt.Sprintf("localcloud: corrupt record %q: %v", key, err))
	}
	return true
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func (t *txn) account(acct string) (*accountRec, bool) {
	var a accountRec
	ok := getJSON(t.tx.Bucket(bAccounts), []byte(acct), &a)
	return &a, ok
}

func (t *txn) putAccount(acct string, a *accountRec) error {
	return putJSON(t.tx.Bucket(bAccounts), []byte(acct), a)
}

// ensureAccount creates the owner's account record on first access.
func (t *txn) ensureAccount(acct string) (*accountRec, error) {
	a, ok := t.account(acct)
	if ok {
		return a, nil
	}
	a.Mtime = t.s.now()
	return a, t.putAccount(acct, a)
}

func (t *txn) container(acct, cont string) (*containerRec, bool) {
	var c containerRec
	ok := getJSON(t.tx.Bucket(bContainers), ckey(acct, cont), &c)
	return &c, ok
}

func (t *txn) putContainer(acct, cont string, c *containerRec) error {
	return putJSON(t.tx.Bucket(bContainers), ckey(acct, cont), c)
}

// containers calls fn for each container of acct in name order, starting
// after marker; fn returns false to stop.
func (t *txn) containers(acct, marker string, fn func(name string, c *containerRec) bool) {
	prefix := []byte(acct + "\x00")
	cur := t.tx.Bucket(bContainers).Cursor()
	k, v := cur.Seek(append(append([]byte{}, prefix...), marker...))
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		name := string(k[len(prefix):])
		if name <= marker && marker != "" {
			continue
		}
		var c containerRec
		if err := json.Unmarshal(v, &c); err != nil {
			panic(err)
		}
		if !fn(name, &c) {
			return
		}
	}
}

func (t *txn) object(acct, cont, name string) (*objectRec, bool) {
	key := okey(acct, cont, name)
	raw := t.tx.Bucket(bObjects).Get(key)
	if raw == nil {
		return &objectRec{}, false
	}
	if o, ok := t.s.recs.get(key, raw); ok {
		return &o, true
	}
	var o objectRec
	if err := json.Unmarshal(raw, &o); err != nil {
		panic(fmt.Sprintf("localcloud: corrupt record %q: %v", key, err))
	}
	t.s.recs.put(key, raw, &o)
	return &o, true
}

func (t *txn) version(acct, cont, name string, id uint64) (*version, bool) {
	var v version
	ok := getJSON(t.tx.Bucket(bVersions), vkey(okey(acct, cont, name), id), &v)
	return &v, ok
}

// versions lists every version of a name, oldest first.
func (t *txn) versions(acct, cont, name string) []version {
	prefix := append(okey(acct, cont, name), 0)
	var out []version
	cur := t.tx.Bucket(bVersions).Cursor()
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8; k, v = cur.Next() {
		var ver version
		if err := json.Unmarshal(v, &ver); err != nil {
			panic(err)
		}
		out = append(out, ver)
	}
	return out
}

func (t *txn) nextID() (uint64, error) { return t.tx.Bucket(bMeta).NextSequence() }

// touch records a change below a container (and so below its account).
func (t *txn) touch(acct, cont string, c *containerRec, now int64) error {
	c.Mtime = now
	if err := t.putContainer(acct, cont, c); err != nil {
		return err
	}
	a, _ := t.account(acct)
	a.Mtime = now
	return t.putAccount(acct, a)
}

// putObject makes v the current version of acct/cont/name, keeping history
// as the container's versioning policy says and updating the container's
// counters. rec carries the sharing and public state to store with it.
// The caller checks quota afterwards (and fails the transaction on excess).
func (t *txn) putObject(acct, cont, name string, c *containerRec, rec *objectRec) error {
	key := okey(acct, cont, name)
	old, exists := t.object(acct, cont, name)
	id, err := t.nextID()
	if err != nil {
		return err
	}
	now := t.s.now()
	rec.ID, rec.Mtime = id, now
	if rec.UUID == "" {
		if exists {
			rec.UUID = old.UUID
		} else {
			rec.UUID = newUUID()
		}
	}
	if exists {
		c.Count--
		c.Bytes -= old.Bytes
		c.countMeta(old.Meta, -1)
		if c.Versioning == "none" {
			if err := t.dropHistory(key); err != nil {
				return err
			}
		}
		if old.Public != "" && old.Public != rec.Public {
			t.tx.Bucket(bPublic).Delete([]byte(old.Public))
		}
	}
	c.Count++
	c.Bytes += rec.Bytes
	c.countMeta(rec.Meta, 1)
	if err := putJSON(t.tx.Bucket(bVersions), vkey(key, id), &rec.version); err != nil {
		return err
	}
	if err := putJSON(t.tx.Bucket(bObjects), key, rec); err != nil {
		return err
	}
	if err := t.index(key, rec); err != nil {
		return err
	}
	return t.touch(acct, cont, c, now)
}

// setState stores sharing/public changes of the current version without a
// new version.
func (t *txn) setState(acct, cont, name string, rec *objectRec) error {
	key := okey(acct, cont, name)
	if old, ok := t.object(acct, cont, name); ok && old.Public != "" && old.Public != rec.Public {
		if err := t.tx.Bucket(bPublic).Delete([]byte(old.Public)); err != nil {
			return err
		}
	}
	if err := putJSON(t.tx.Bucket(bObjects), key, rec); err != nil {
		return err
	}
	return t.index(key, rec)
}

func (t *txn) index(key []byte, rec *objectRec) error {
	if rec.Sharing != nil {
		if err := t.tx.Bucket(bShared).Put(key, nil); err != nil {
			return err
		}
	} else if err := t.tx.Bucket(bShared).Delete(key); err != nil {
		return err
	}
	if rec.Public != "" {
		return t.tx.Bucket(bPublic).Put([]byte(rec.Public), key)
	}
	return nil
}

// deleteObject removes the current version of a name: a delete marker is
// kept in the history under auto versioning.
func (t *txn) deleteObject(acct, cont, name, by string, c *containerRec) error {
	key := okey(acct, cont, name)
	old, exists := t.object(acct, cont, name)
	if !exists {
		return notFound("Object does not exist")
	}
	now := t.s.now()
	if c.Versioning == "none" {
		if err := t.dropHistory(key); err != nil {
			return err
		}
	} else {
		id, err := t.nextID()
		if err != nil {
			return err
		}
		marker := version{ID: id, UUID: old.UUID, Mtime: now, ModifiedBy: by, Deleted: true, Type: old.Type}
		if err := putJSON(t.tx.Bucket(bVersions), vkey(key, id), &marker); err != nil {
			return err
		}
	}
	if err := t.tx.Bucket(bObjects).Delete(key); err != nil {
		return err
	}
	t.tx.Bucket(bShared).Delete(key)
	if old.Public != "" {
		t.tx.Bucket(bPublic).Delete([]byte(old.Public))
	}
	c.Count--
	c.Bytes -= old.Bytes
	c.countMeta(old.Meta, -1)
	return t.touch(acct, cont, c, now)
}

func (t *txn) dropHistory(key []byte) error {
	prefix := append(append([]byte{}, key...), 0)
	b := t.tx.Bucket(bVersions)
	cur := b.Cursor()
	var dead [][]byte
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8; k, _ = cur.Next() {
		dead = append(dead, append([]byte{}, k...))
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// purgeHistory drops versions of the names under key prefix older than
// until (nanoseconds), keeping current versions.
func (t *txn) purgeHistory(prefix []byte, until int64) error {
	b := t.tx.Bucket(bVersions)
	cur := b.Cursor()
	var dead [][]byte
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		var ver version
		if err := json.Unmarshal(v, &ver); err != nil {
			return err
		}
		if ver.Mtime >= until {
			continue
		}
		name := k[:len(k)-9]
		var cur objectRec
		if getJSON(t.tx.Bucket(bObjects), name, &cur) && cur.ID == ver.ID {
			continue
		}
		dead = append(dead, append([]byte{}, k...))
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// checkQuota fails with 413 when a write of requested bytes left the
// container over its quota, or its project (the container's
// X-Container-Policy-Project) over the pithos.diskspace the account may use
// there (the caller's transaction then rolls back).
func (t *txn) checkQuota(acct string, c *containerRec, requested int64) error {
	if c.Quota > 0 && c.Bytes > c.Quota {
		return errf(413, fmt.Sprintf("Quota error: Container quota exceeded: limit: %d, usage: %d", c.Quota, c.Bytes))
	}
	if requested <= 0 {
		return nil // a release is always accepted
	}
	project := c.Project
	if project == "" {
		project = acct
	}
	if err := t.checkCommission(t.s.cloud, project, acct, map[string]int64{"pithos.diskspace": requested}); err != nil {
		var f *fault
		if errors.As(err, &f) && f.Status == 413 {
			f.Name = "fault" // Pithos passes Astakos' QuotaLimit on as a generic fault
		}
		return err
	}
	return nil
}

// topHash is the Merkle top hash of stored (always valid) hashes.
func topHash(hashes []string) (string, error) { return hashmap.TopHash(hashes) }
