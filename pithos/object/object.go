// Package object is the object store's vocabulary without HTTP: an object's
// attributes (Info), the options and preconditions of reads and writes, a
// write's result, sharing permissions. Package pithos speaks it over HTTP
// (its ObjectInfo, GetOptions, PutOptions… are these types), and the layers
// that consume object storage through an interface (fs/writeback, fs) use it
// without importing an HTTP client. It knows nothing of requests, headers or
// status codes; the errors of calls are package fault's.
package object

import (
	"context"
	"strings"
	"time"
)

// DirectoryType is the content type of directory marker objects.
const DirectoryType = "application/directory"

// Info describes one object, from a HEAD/GET reply or a listing entry. Listings carry no user
// metadata, Content-Encoding/Disposition or manifest; those are set from headers only.
type Info struct {
	Name               string
	Bytes              int64
	ContentType        string
	Hash               string // Merkle top hash (X-Object-Hash / x_object_hash); "" on Swift
	ETag               string // as sent: the Merkle hash on Pithos+, the MD5 on Swift
	MD5                string // listing "hash": the stored MD5, usually "" on Pithos+
	UUID               string
	Version            int64
	VersionTimestamp   time.Time
	LastModified       time.Time
	ModifiedBy         string
	Meta               map[string]string // X-Object-Meta-*, decoded
	Sharing            Sharing
	SharedBy           string // X-Object-Shared-By: where inherited permissions come from
	AllowedTo          string // "read" or "write", for non-owners
	Public             string // public URL, owner only; "" when not published
	ContentEncoding    string
	ContentDisposition string
	Manifest           string // X-Object-Manifest (DLO)
}

// IsDir reports whether the object is a directory marker (application/directory or application/folder).
func (o *Info) IsDir() bool { return IsDirectoryType(o.ContentType) }

// IsDirectoryType reports whether a content type (parameters ignored) marks a directory.
func IsDirectoryType(ct string) bool {
	t, _, _ := strings.Cut(ct, ";")
	t = strings.ToLower(strings.TrimSpace(t))
	return t == "application/directory" || t == "application/folder"
}

// Conditions are the preconditions of a request. Entity tags are Merkle hashes on Pithos+.
type Conditions struct {
	IfMatch           string // "*" or an ETag; mismatch → fault.ErrPrecondition
	IfNoneMatch       string // "*" (no clobber) or an ETag
	IfModifiedSince   time.Time
	IfUnmodifiedSince time.Time
}

// GetOptions select a version and preconditions for HEAD/GET.
type GetOptions struct {
	Version int64 // 0 = current
	Conditions
}

// PutOptions are the attributes and preconditions of an object write (data, hashmap or manifest).
type PutOptions struct {
	ContentType        string // default application/octet-stream
	ContentEncoding    string
	ContentDisposition string
	Meta               map[string]string // replaces the object's metadata
	Sharing            *Sharing          // nil: unchanged; empty: cleared
	Public             *bool             // nil: unchanged
	Conditions                           // If-Match / If-None-Match: "*" against the destination
}

// PutResult is what an object write returns.
type PutResult struct {
	ETag    string
	Version int64
}

// MetaOptions is an object metadata update.
type MetaOptions struct {
	Meta               map[string]string // X-Object-Meta-*; with Replace false an empty value deletes a key
	ContentEncoding    string
	ContentDisposition string
	Manifest           string
	// ContentType, when set, changes the object's content type: plain Swift does that on POST (with
	// Replace); Pithos+ ignores it.
	ContentType string
	Replace     bool // replace all metadata instead of merging (?update omitted)
	Conditions
}

// UploadOptions are the settings of an upload of an object's whole data.
type UploadOptions struct {
	PutOptions
	// Size of src when it is an io.ReaderAt whose size cannot be discovered (a *bytes.Reader,
	// *io.SectionReader, *strings.Reader or regular *os.File reports its own). 0 = discover/unknown.
	Size int64
	// Concurrency bounds parallel block uploads (0 = the client's default).
	Concurrency int
}

// BlockSource returns the bytes of the block with the given hex hash (a short last block may be
// returned short). It must be safe for concurrent calls.
type BlockSource func(ctx context.Context, hash string) ([]byte, error)

// CommitOptions are the settings of a hashmap commit.
type CommitOptions struct {
	PutOptions
	Concurrency int // parallel block uploads (0 = the client's default)
	// Release, if set, is called with the bytes the BlockSource returned
	// for a block once that block's upload is over (sent or failed), so the
	// source may reuse their buffer.
	Release func(data []byte)
}
