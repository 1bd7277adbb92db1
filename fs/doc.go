// Package fs is the go-fuse node tree of a pithosfs mount: the whole-cloud
// root (accounts, then containers), containers and directories built from
// paged JSON listings (with "/" as delimiter, implicit directories and
// application/directory markers merged), files whose reads go block by
// block through the content-addressed cache with readahead, the namespace
// operations that map onto server-side requests (mkdir markers, rmdir,
// unlink, atomic rename by move), the metadata TTL cache, the errno mapping
// of object-store errors, and the .pithosfs control tree at every mount's
// root (stats.json, uploads/status, uploads/failed/ with the commits the
// server refused, uploads.json). Dirty-block staging and commits live in
// fs/writeback.
//
// It sees the object store only through Store (store.go), a consumer-side
// interface that *pithos.Client satisfies; unit tests run the node tree on
// the in-memory fake of fs/internal/fakestore (harness_test.go).
//
// Files follow the node kinds and their operation families: node_root.go,
// node_account.go, node_dir*.go (attributes, lookup, readdir, create,
// mkdir/rmdir/unlink, rename), node_file*.go and handle_*.go (a file's
// attributes and open; the read, write-back and passthrough handles),
// node_symlink.go, xattr.go, and dotpithos*.go for the .pithosfs tree. The
// cloud trees (servers/, images/, ...) are the separate package fs/control.
// Inside this package go-fuse's fs package is imported as gofs.
package fs
