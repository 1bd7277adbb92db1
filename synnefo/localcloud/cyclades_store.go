package localcloud

import (
	"encoding/binary"
	"encoding/json"
	"errors"
)

// Cyclades state lives in its own buckets of the object store's database, so
// a server, its ports and its volumes change in one transaction with the
// Pithos objects they touch (snapshots, image registrations).
var (
	bServers     = []byte("cy_servers")  // id:8 -> serverRec
	bNetworks    = []byte("cy_networks") // id:8 -> networkRec
	bSubnets     = []byte("cy_subnets")  // id:8 -> subnetRec
	bPorts       = []byte("cy_ports")    // id:8 -> portRec
	bFloating    = []byte("cy_floating") // id:8 -> floatingRec
	bVolumes     = []byte("cy_volumes")  // id:8 -> volumeRec
	bKeypairs    = []byte("cy_keypairs") // owner\0name -> keypairRec
	bImages      = []byte("cy_images")   // object uuid -> imageRec
	bDue         = []byte("cy_due")      // due-time:8 kind:1 id -> "" (pending transitions)
	cyBuckets    = [][]byte{bServers, bNetworks, bSubnets, bPorts, bFloating, bVolumes, bKeypairs, bImages, bDue}
	errNoBuckets = errors.New("localcloud: cyclades buckets missing")
)

// Kinds of pending transitions in the due queue.
const (
	dueServer   = 's'
	dueVolume   = 'v'
	dueSnapshot = 'i'
	duePort     = 'p'
	dueTags     = 't'
)

// initCyclades creates the compute, network, volume and image buckets and,
// on first start, the public network. Open runs it once and fails with its
// error, so no request ever meets a database without them.
func initCyclades(t *txn) error {
	for _, b := range cyBuckets {
		if _, err := t.tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return t.ensurePublicNetwork()
}

// findRec loads record id of bucket b when the caller may see it (mine
// says so); a missing or foreign record is a 404 with msg.
func findRec[T any](t *txn, b []byte, id int64, mine func(*T) bool, msg string) (*T, error) {
	rec, ok := getRec[T](t, b, id)
	if !ok || !mine(rec) {
		return nil, notFound(msg)
	}
	return rec, nil
}

func idKey(id int64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(id))
	return k
}

// nextSeq allocates the next id of a bucket.
func (t *txn) nextSeq(b []byte) (int64, error) {
	n, err := t.tx.Bucket(b).NextSequence()
	return int64(n), err
}

// each calls fn for every record of an id-keyed bucket in id order.
func each[T any](t *txn, b []byte, fn func(rec *T) bool) {
	cur := t.tx.Bucket(b).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		rec := new(T)
		if err := json.Unmarshal(v, rec); err != nil {
			panic(err)
		}
		if !fn(rec) {
			return
		}
	}
}

func getRec[T any](t *txn, b []byte, id int64) (*T, bool) {
	rec := new(T)
	ok := getJSON(t.tx.Bucket(b), idKey(id), rec)
	return rec, ok
}

func putRec(t *txn, b []byte, id int64, v any) error {
	return putJSON(t.tx.Bucket(b), idKey(id), v)
}

// schedule queues a transition of kind for id at ns.
func (t *txn) schedule(kind byte, id string, at int64) error {
	k := make([]byte, 9, 9+len(id))
	binary.BigEndian.PutUint64(k, uint64(at))
	k[8] = kind
	k = append(k, id...)
	return t.tx.Bucket(bDue).Put(k, nil)
}

// settle applies every transition due by now in one transaction. Pending
// work is stored with its due time, so it resumes after a restart.
func (c *Cloud) settle(now int64) error {
	due := false
	err := c.store.view(func(t *txn) error {
		b := t.tx.Bucket(bDue)
		if b == nil {
			return errNoBuckets
		}
		k, _ := b.Cursor().First()
		due = k != nil && int64(binary.BigEndian.Uint64(k[:8])) <= now
		return nil
	})
	if err != nil || !due {
		return err
	}
	return c.store.update(func(t *txn) error {
		var keys [][]byte
		cur := t.tx.Bucket(bDue).Cursor()
		for k, _ := cur.First(); k != nil && int64(binary.BigEndian.Uint64(k[:8])) <= now; k, _ = cur.Next() {
			keys = append(keys, append([]byte{}, k...))
		}
		for _, k := range keys {
			if err := t.tx.Bucket(bDue).Delete(k); err != nil {
				return err
			}
			at, kind, id := int64(binary.BigEndian.Uint64(k[:8])), k[8], string(k[9:])
			var err error
			switch kind {
			case dueServer:
				err = t.settleServer(id, at)
			case dueVolume:
				err = t.settleVolume(id, at)
			case dueSnapshot:
				err = t.settleSnapshot(id, at)
			case duePort:
				err = t.settlePort(id, at)
			case dueTags:
				err = t.settleTags(id, at)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// changesSince is a list's parsed changes-since parameter (§3.1).
type changesSince struct {
	at  int64
	set bool
}

// shows reports whether a record is listed: without changes-since the live
// ones, with it every one updated since then, deleted ones included.
func (f changesSince) shows(updated int64, deleted bool) bool {
	if f.set {
		return updated >= f.at
	}
	return !deleted
}
