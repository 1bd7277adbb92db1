package pithos

import "github.com/pithosfs/pithosfs/pithos/object"

// The object store's vocabulary is package object's, so that layers which
// consume storage through an interface need no HTTP client; these names
// keep the client's API whole.
type (
	ObjectInfo    = object.Info
	Sharing       = object.Sharing
	Conditions    = object.Conditions
	GetOptions    = object.GetOptions
	PutOptions    = object.PutOptions
	PutResult     = object.PutResult
	MetaOptions   = object.MetaOptions
	UploadOptions = object.UploadOptions
	CommitOptions = object.CommitOptions
	BlockSource   = object.BlockSource
)

// DirectoryType is the content type of directory marker objects.
const DirectoryType = object.DirectoryType

// IsDirectoryType reports whether a content type (parameters ignored) marks a directory.
func IsDirectoryType(ct string) bool { return object.IsDirectoryType(ct) }

// ParseSharing parses an X-Object-Sharing value ("read=a,b; write=c", either order, "" for none).
func ParseSharing(v string) (Sharing, error) { return object.ParseSharing(v) }
