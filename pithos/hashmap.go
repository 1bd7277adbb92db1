package pithos

import "github.com/pithosfs/pithosfs/pithos/hashmap"

// Hashmap is an object's list of block hashes (GET ?hashmap, PUT ?hashmap);
// the hashing itself lives in package hashmap.
type Hashmap = hashmap.Map
