// Package control owns the virtual control trees shown at the root of a
// whole-cloud mount: servers/ (read a file for a server's live details, write
// a JSON spec to create one, write an action to run it), images/ (write JSON
// to register an image, copy any other file in to upload and register it),
// and the read-only flavors/ and networks/. Each directory keeps its last
// rejected request readable as .last-error. It drives the cloud only through
// the Go clients (synnefo/cyclades, synnefo/image, pithos), never by another
// path, and knows nothing of the object tree beside it.
package control
