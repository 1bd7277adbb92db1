// Package control owns the virtual control trees shown at the root of a
// whole-cloud mount: servers/ (read a file for a server's live details, write
// a JSON spec to create one, write an action to run it), images/ (write JSON
// to register an image, copy any other file in to upload and register it),
// volumes/ and snapshots/ (read a file for a volume's or snapshot's live
// details, write JSON to create and attach a volume or to snapshot one),
// and the read-only flavors/ and networks/. Each directory keeps its last
// rejected request readable as .last-error. It drives the cloud only through
// the Go clients (synnefo/cyclades for compute, network and block storage,
// synnefo/image, pithos), never by another path, and knows nothing of the
// object tree beside it.
package control
