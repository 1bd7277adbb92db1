package writeback

import "github.com/pithosfs/pithosfs/pithos"

// The journal's Store is what *pithos.Client offers.
var _ Store = (*pithos.Client)(nil)
