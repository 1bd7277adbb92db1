package fakestore

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/pithos/object"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// Cloud is the state every account's Store shares: accounts, containers,
// objects with their versions, and one block store.
type Cloud struct {
	// BlockSize is the containers' block size (default 4 MiB).
	BlockSize int64
	// Faults fails the calls its rules pick (faults.go).
	Faults Faults

	mu       sync.Mutex
	accounts map[string]map[string]*container // account → container name → container
	blocks   map[string][]byte                // block hash → block, trailing zeros stripped
	seq      int64                            // versions and uuids
	now      time.Time                        // advances a second per change
}

// container is one container: its current objects and every version of
// every name it held (current ones included), oldest first.
type container struct {
	created    time.Time
	versioning string // "auto" or "none"
	objects    map[string]*version
	history    map[string][]*version
}

// version is one object version: its attributes and its blocks' hashes.
type version struct {
	info   object.Info
	hashes []string
}

// share applies a write's sharing and publishing changes (nil: unchanged);
// a published object's URL is made of its uuid.
func (v *version) share(sharing *object.Sharing, public *bool) {
	if sharing != nil {
		v.info.Sharing = *sharing
	}
	if public != nil {
		v.info.Public = ""
		if *public {
			v.info.Public = "fake://public/" + v.info.UUID
		}
	}
}

// Store is one account's view of the Cloud; it satisfies fs.Store.
type Store struct {
	c       *Cloud
	account string
}

// New returns a Store of account in a new, empty Cloud.
func New(account string) *Store {
	c := &Cloud{BlockSize: hashmap.DefaultBlockSize, accounts: map[string]map[string]*container{},
		blocks: map[string][]byte{}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.blocks[hashmap.EmptyHash] = nil
	return &Store{c: c, account: account}
}

// Cloud returns the state the Store shares with the other accounts.
func (s *Store) Cloud() *Cloud { return s.c }

// WithAccount returns the Store of another account of the same Cloud.
func (s *Store) WithAccount(account string) *Store { return &Store{c: s.c, account: account} }

// AccountID returns the account the Store addresses.
func (s *Store) AccountID() string { return s.account }

// Endpoint names the fake (it has no URL).
func (s *Store) Endpoint() string { return "fake://" + s.account }

// LargeObjectThreshold is Swift's segment threshold: the fake is Pithos+,
// which has none.
func (s *Store) LargeObjectThreshold() int64 { return 1 << 62 }

// WithProgress returns ctx: the fake's calls do not stall.
func (s *Store) WithProgress(ctx context.Context, _ func()) context.Context { return ctx }

// failure is the error of a call the server refuses: kind is one of
// synnefo/fault's domain errors (what the client's error matches), with
// the request in the message.
func (s *Store) failure(method, container, name string, kind error) error {
	return fmt.Errorf("fakestore: %s %s/%s: %w", method, s.account, strings.TrimSuffix(container+"/"+name, "/"), kind)
}

// enter runs the fault injection for one call, then takes the cloud's lock
// (the caller unlocks).
func (s *Store) enter(ctx context.Context, op, container, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fakestore: %s: %w", op, err)
	}
	if err := s.c.Faults.check(Call{Op: op, Account: s.account, Container: container, Name: name}); err != nil {
		return err
	}
	s.c.mu.Lock()
	return nil
}

func (s *Store) unlock() { s.c.mu.Unlock() }

// tick advances the cloud's clock (under mu).
func (c *Cloud) tick() time.Time {
	c.now = c.now.Add(time.Second)
	return c.now
}

// next returns a new sequence number (under mu).
func (c *Cloud) next() int64 {
	c.seq++
	return c.seq
}

// containers returns the account's container map, creating it (under mu).
func (s *Store) containers() map[string]*container {
	m := s.c.accounts[s.account]
	if m == nil {
		m = map[string]*container{}
		s.c.accounts[s.account] = m
	}
	return m
}

// container returns a container or the client's 404 (under mu).
func (s *Store) container(method, name string) (*container, error) {
	if ct := s.containers()[name]; ct != nil {
		return ct, nil
	}
	return nil, s.failure(method, name, "", fault.ErrNotFound)
}

// object returns a current object or the client's 404 (under mu).
func (s *Store) object(method, cont, name string) (*container, *version, error) {
	ct, err := s.container(method, cont)
	if err != nil {
		return nil, nil, err
	}
	v := ct.objects[name]
	if v == nil {
		return nil, nil, s.failure(method, cont, name, fault.ErrNotFound)
	}
	return ct, v, nil
}

// sortedNames returns the container's current names in order (under mu).
func (ct *container) sortedNames() []string {
	names := make([]string, 0, len(ct.objects))
	for n := range ct.objects {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// storeBlocks splits data into blocks, stores them and returns their
// hashes (under mu); an empty object has the empty block's hash.
func (c *Cloud) storeBlocks(data []byte) []string {
	if len(data) == 0 {
		return []string{hashmap.EmptyHash}
	}
	var hashes []string
	for off := int64(0); off < int64(len(data)); off += c.BlockSize {
		b := data[off:min(off+c.BlockSize, int64(len(data)))]
		h := hashmap.BlockHashHex(b)
		if _, ok := c.blocks[h]; !ok {
			c.blocks[h] = bytes.Clone(bytes.TrimRight(b, "\x00"))
		}
		hashes = append(hashes, h)
	}
	return hashes
}

// content returns a version's bytes (under mu).
func (c *Cloud) content(v *version) []byte {
	out := make([]byte, v.info.Bytes)
	for i, h := range v.hashes {
		if off := int64(i) * c.BlockSize; off < int64(len(out)) {
			copy(out[off:], c.blocks[h]) // the stripped zeros are out's own
		}
	}
	return out
}

// etagOf is the Merkle top hash of hashes, the ETag of a default
// deployment; hashes are the fake's own or checked by PutHashmap.
func etagOf(hashes []string) string {
	t, _ := hashmap.TopHash(hashes)
	return t
}
