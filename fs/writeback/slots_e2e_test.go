package writeback_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pithosfs/pithosfs/fs/writeback"
)

// TestOneJournalFilePerWrittenFile: a file written block after block, its blocks uploaded early and kept in
// the journal, then a commit that fails and persists the rest, has one directory holding its record and
// one slots file (a file per block before: 256 created and deleted per GiB), and Recover completes the
// commit from it at the next mount.
func TestOneJournalFilePerWrittenFile(t *testing.T) {
	ctx := context.Background()
	const bs = 256 << 10
	var proxy *flakyProxy
	e := newEnv(t, envOptions{blockSize: bs, eager: true, front: func(target string) string {
		proxy = newFlakyProxy(t, target, 0)
		return proxy.front(target)
	}})
	f := e.open("big")
	data := randomBytes(t, 12*bs+1000)
	for off := 0; off < len(data); off += 64 << 10 {
		write(t, f, data[off:min(off+64<<10, len(data))], int64(off))
	}
	waitFor(t, func() bool { return e.m.Stats().EarlyUploads >= 12 })
	proxy.n.Store(1 << 30)
	failCommit(t, f)
	f.Release()
	_ = e.m.Close()
	got := journalEntries(t, e.dir)
	if len(got) != 1 {
		t.Fatalf("journal = %v, want the file's directory only", got)
	}
	files, err := os.ReadDir(filepath.Join(e.dir, got[0]))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range files {
		names = append(names, fi.Name())
	}
	if len(names) != 2 || names[0] != "record.json" || names[1] != "slots" {
		t.Fatalf("the file's journal directory holds %v, want [record.json slots]", names)
	}
	if recs := journalRecords(t, e.dir); len(recs) != 1 || heldBlocks(t, recs[0]) != 13 {
		t.Fatalf("records %v, want one holding 13 blocks", recs)
	}
	proxy.n.Store(0)
	m2 := e.newManager(writeback.Config{Client: e.admin, JournalDir: e.dir})
	res, err := m2.Recover(ctx)
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("Recover = %+v, %v", res, err)
	}
	if !bytes.Equal(e.get("big"), data) {
		t.Fatal("recovered content differs")
	}
}
