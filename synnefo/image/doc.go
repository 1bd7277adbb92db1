// Package image is the client of Synnefo's image service (Plankton), the Go counterpart of kamaki's
// ImageClient: it registers (and re-registers) Pithos objects as images from a pithos:// location or an
// account/container/path triple, lists images, reads an image's metadata from the X-Image-Meta-* headers
// of HEAD /images/{id}, updates metadata and properties, unregisters images and manages their members,
// with the header encodings of image-api.md.
package image
