package history

import (
	"context"
	"time"

	"github.com/pithosfs/pithosfs/pithos"
)

// Store is what the version views need of the object store, as the mount's
// own account: a consumer-side interface that *pithos.Client satisfies (and
// fs's test fake does). Its errors are package fault's domain errors.
type Store interface {
	// AccountID is the account the store addresses (a cache key's part).
	AccountID() string
	ListContainers(ctx context.Context) ([]pithos.ContainerEntry, error)
	ListDir(ctx context.Context, container, prefix string) ([]pithos.DirEntry, error)
	// HistoryOf says where container keeps its history, or fails with
	// pithos.ErrNoHistory.
	HistoryOf(ctx context.Context, container string) (pithos.History, error)
	ObjectVersions(ctx context.Context, h pithos.History, container, name string, known map[int64]pithos.ObjectVersion) ([]pithos.ObjectVersion, error)
	DeletedEntries(ctx context.Context, h pithos.History, container, prefix string, now time.Time, known []string) (files, dirs []string, err error)
	GetHashmap(ctx context.Context, container, name string, opts pithos.GetOptions) (*pithos.Hashmap, *pithos.ObjectInfo, error)
	ReadRangeInto(ctx context.Context, container, name string, offset, size int64, buf []byte, opts pithos.GetOptions) ([]byte, error)
}
