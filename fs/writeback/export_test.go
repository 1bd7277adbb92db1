package writeback

import "path/filepath"

// SegmentPending lists the ids whose records the journal's segments in dir
// hold and no later line completes.
func SegmentPending(dir string) []string {
	seqs, _ := segSeqs(dir)
	pending := map[string]*record{}
	for _, s := range seqs {
		_, _ = readSegment(filepath.Join(dir, segName(s)), pending)
	}
	var ids []string
	for id := range pending {
		ids = append(ids, id)
	}
	return ids
}
