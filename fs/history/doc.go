// Package history is the mount's view of the past: .pithosfs/versions/
// (every version of every object, as read-only files named by their time)
// and .pithosfs/deleted/ (objects deleted but kept in the history, and
// their versions). A version's bytes are read through the block cache like
// any file's (old versions share blocks with new ones); copying a version
// onto a file of the mount (cp VERSION FILE, which uses copy_file_range) is
// a server-side copy with the version as source, through a callback the
// mount provides. On Pithos+ history is the container's versioning; on
// plain Swift the archive container of X-History-Location or
// X-Versions-Location.
//
// It knows go-fuse nodes, the object store through its Store interface
// (store.go; *pithos.Client satisfies it) and the cache; it does not
// know the mount's other nodes, its write path or HTTP status codes
// (errors go to Config.Errno).
package history
