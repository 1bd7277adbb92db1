package writeback

import (
	"context"
	"io"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/pithos/object"
)

// Store is what the journal needs of the object store: a consumer-side
// interface that *pithos.Client satisfies (and a test double may). Its
// errors are package fault's domain errors; the journal decides on those
// (errors.go, refused.go), never on how they travelled.
type Store interface {
	ObjectInfo(ctx context.Context, container, name string, opts object.GetOptions) (*object.Info, error)
	// ReadRange reads length bytes at offset of an object of size bytes.
	ReadRange(ctx context.Context, container, name string, offset, length, size int64, opts object.GetOptions) ([]byte, error)
	PutObject(ctx context.Context, container, name string, body io.Reader, size int64, opts object.PutOptions) (*object.PutResult, error)
	// UploadObject stores src whole (hashed into blocks, or as Swift segments when large).
	UploadObject(ctx context.Context, container, name string, src io.Reader, opts object.UploadOptions) (*object.PutResult, error)
	// PutHashmap makes the object hm when the server has every block, else
	// returns the hashes it lacks (result nil).
	PutHashmap(ctx context.Context, container, name string, hm *hashmap.Map, opts object.PutOptions) (*object.PutResult, []string, error)
	// CommitHashmap is PutHashmap, uploading the blocks the server lacks
	// from blocks, until the object is made.
	CommitHashmap(ctx context.Context, container, name string, hm *hashmap.Map, blocks object.BlockSource, opts object.CommitOptions) (*object.PutResult, error)
	// UploadHashedBlock stores one block whose hash the caller computed.
	UploadHashedBlock(ctx context.Context, container, hash string, data []byte) error
	UpdateObjectMeta(ctx context.Context, container, name string, opts object.MetaOptions) (*object.PutResult, error)
	// LargeObjectThreshold is the size above which a plain Swift object is
	// uploaded as segments (a streamed upload stops short of it).
	LargeObjectThreshold() int64
	// WithProgress returns a context whose requests call fn whenever they
	// make progress (a reply arrives, body bytes move): the journal's
	// --io-timeout watch.
	WithProgress(ctx context.Context, fn func()) context.Context
}
