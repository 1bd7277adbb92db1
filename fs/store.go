package fs

import (
	"context"
	"iter"

	"github.com/pithosfs/pithosfs/fs/history"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
)

// Store is what the mount needs of the object store, as one account: a
// consumer-side interface (the shape of gcsfuse's gcs.Bucket) that
// *pithos.Client satisfies, and so does fs/internal/fakestore's in-memory
// fake, which fs's unit tests run on (harness_test.go). It is the
// journal's writeback.Store and the version views' history.Store, plus
// listings, stat, ranged reads, hashmaps, copy/move, delete, containers and
// sharing. Its errors are package fault's domain errors (errors.Is:
// fault.ErrNotFound, fault.ErrPrecondition…), which fs/errmap turns into
// errnos; fs never sees how they travelled.
type Store interface {
	writeback.Store
	history.Store

	AccountInfo(ctx context.Context) (*pithos.AccountInfo, error)
	// ListSharingAccounts lists the accounts sharing objects with this one.
	ListSharingAccounts(ctx context.Context) ([]pithos.SharingAccount, error)
	// Capabilities says what container supports (hashmaps: Pithos+, not
	// plain Swift).
	Capabilities(ctx context.Context, container string) (pithos.Capabilities, error)
	// CreateContainer reports whether it made the container (false: it
	// existed).
	CreateContainer(ctx context.Context, container string, opts pithos.CreateContainerOptions) (bool, error)
	DeleteContainer(ctx context.Context, container string, opts pithos.DeleteContainerOptions) error

	// ObjectPages lists container page by page (prefix, delimiter, marker).
	ObjectPages(ctx context.Context, container string, opts pithos.ListOptions) iter.Seq2[pithos.Listing, error]
	GetObject(ctx context.Context, container, name string, opts pithos.GetOptions) (*pithos.Object, error)
	// GetHashmap, ReadRangeInto (history.Store), ObjectInfo and ReadRange
	// (writeback.Store) are the read path.

	CopyObject(ctx context.Context, srcContainer, srcName, dstContainer, dstName string, opts pithos.CopyOptions) (*pithos.PutResult, error)
	MoveObject(ctx context.Context, srcContainer, srcName, dstContainer, dstName string, opts pithos.CopyOptions) (*pithos.PutResult, error)
	DeleteObject(ctx context.Context, container, name string, opts pithos.DeleteOptions) error
	// RestoreVersion copies version v over container/name server-side.
	RestoreVersion(ctx context.Context, v pithos.ObjectVersion, container, name string, cond pithos.Conditions) (*pithos.PutResult, error)

	SetSharing(ctx context.Context, container, name string, s pithos.Sharing) error
	// Publish returns the object's public URL.
	Publish(ctx context.Context, container, name string) (string, error)
	Unpublish(ctx context.Context, container, name string) error
}

// The mount runs on the real client.
var _ Store = (*pithos.Client)(nil)

// Accounts returns the Store addressing another account (one sharing
// objects with the user, or a REMOTE's account): for *pithos.Client, its
// WithAccount.
type Accounts func(uuid string) Store

// PithosAccounts is the Accounts of a real mount: c.WithAccount.
func PithosAccounts(c *pithos.Client) Accounts {
	return func(uuid string) Store { return c.WithAccount(uuid) }
}
