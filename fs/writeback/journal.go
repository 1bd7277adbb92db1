package writeback

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pithosfs/pithosfs/internal/diskfile"
)

// Journal layout, under Config.JournalDir:
//
//	.seg-<seq>.ndjson  records of pending commits whose blocks are all in the record, one
//	                   line each, and their completions (segment.go)
//	.seg-<seq>.ndjson.oversized  a segment replay found a line too long in, kept aside
//	<id>.json          the same, flat: written fsynced for a failed commit kept for a retry,
//	                   and by earlier builds for every such commit
//	<id>/record.json   the pending commit of a file with blocks on disk (written atomically)
//	<id>/slots         its dirty blocks, slot k at k·BlockSize, named s<k> (slots.go)
//	<id>/b<n>          one dirty block each, in journals of earlier builds (read, never written)
//
// A block of at most inlineMax bytes held in memory goes into the record
// itself (record.Inline) rather than into a file of its own. A file with no
// block file has no directory: its record is a line of the segment (or,
// kept for a retry, the flat <id>.json), so a small file's commit creates
// no journal file and makes no directory. Once a file
// has a directory (a block spilled, a large block, an early upload), its
// records go there until the directory is removed; a flat record left from
// before is removed after the first record in the directory is written. So
// when both exist (a crash between the two steps), the directory's is the
// newer: readRecord prefers it. Journals of builds before flat records hold
// only directories, which read as before.
//
//	failed/<id>/…      commits the server refused, with the reason in the record (always a directory)
const (
	recordName = "record.json"
	failedDir  = "failed"
	// flatExt ends a flat record's name: <id>.json beside <id>/.
	flatExt = ".json"
)

// flatPath is the flat record of the file whose journal directory is dir.
func flatPath(dir string) string { return dir + flatExt }

// dirExists reports whether dir is there (a file's journal directory).
func dirExists(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}

// record describes one pending commit completely: the target, the
// precondition, the full hashmap to PUT and which journal file holds each
// dirty block. With it and the block files a commit can be completed after a
// crash without the File that started it.
type record struct {
	ID          string            `json:"id"`
	Container   string            `json:"container"`
	Name        string            `json:"name"`
	ConflictOf  string            `json:"conflict_of,omitempty"` // original name when Name is a conflict copy
	IfMatch     string            `json:"if_match,omitempty"`
	IfNoneMatch string            `json:"if_none_match,omitempty"`
	ContentType string            `json:"content_type,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`
	Swift       bool              `json:"swift,omitempty"`
	BlockSize   int64             `json:"block_size"`
	BlockHash   string            `json:"block_hash,omitempty"`
	Size        int64             `json:"size"`
	Hashes      hashList          `json:"hashes,omitempty"` // the full new hashmap (Pithos+), holes as runs
	Blocks      map[int64]string  `json:"blocks"`           // block index → journal file name
	Inline      map[int64][]byte  `json:"inline,omitempty"` // block index → its bytes (zero-extended), for small blocks
	Clip        int64             `json:"clip"`             // base blocks at or past this offset read as zeros
	BaseETag    string            `json:"base_etag,omitempty"`
	BaseVersion int64             `json:"base_version,omitempty"`
	BaseSize    int64             `json:"base_size"`
	Created     time.Time         `json:"created"`
	Attempts    int               `json:"attempts"`
	LastError   string            `json:"last_error,omitempty"`
	Failed      string            `json:"failed,omitempty"` // reason, for records under failed/
}

// inlineMax is the largest block a record holds inline.
const inlineMax = 64 << 10

// held lists the indexes of the blocks the record holds (in files or inline).
func (r *record) held() []int64 {
	out := make([]int64, 0, len(r.Blocks)+len(r.Inline))
	for i := range r.Blocks {
		out = append(out, i)
	}
	for i := range r.Inline {
		out = append(out, i)
	}
	return out
}

// readHeld fills dst with block i's bytes from offset in, zeros past their
// end, when the record holds block i (ok); dir is the record's directory.
func (r *record) readHeld(dir string, i, in int64, dst []byte) (ok bool, err error) {
	if d, ok := r.Inline[i]; ok {
		copyZeroExtended(dst, d, in)
		return true, nil
	}
	if f, ok := r.Blocks[i]; ok {
		return true, refOf(dir, f, r.BlockSize).read(dst, in)
	}
	return false, nil
}

// readRecord reads the record of the file whose journal directory is dir:
// the directory's record, else the flat one (an error wrapping
// fs.ErrNotExist when neither exists).
func readRecord(dir string) (*record, error) {
	data, err := os.ReadFile(filepath.Join(dir, recordName))
	if errors.Is(err, fs.ErrNotExist) {
		data, err = os.ReadFile(flatPath(dir))
	}
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("writeback: journal record %s: %w", dir, err)
	}
	if r.BlockSize <= 0 || r.Container == "" || r.Name == "" {
		return nil, fmt.Errorf("writeback: journal record %s: incomplete", dir)
	}
	return &r, nil
}

// writeRecord writes the record of the file whose journal directory is dir
// atomically and fsynced: into the directory when it exists, else flat.
func writeRecord(dir string, r *record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	flat := !dirExists(dir)
	path := flatPath(dir)
	if !flat {
		path = filepath.Join(dir, recordName)
	}
	if err := diskfile.WriteAtomic(path, data, 0o600); err != nil {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	if !flat {
		removeFlat(dir)
	}
	return nil
}

// writeRecordNoSync writes the record into the file's journal directory
// dir atomically (temporary file and rename) without fsync: it survives a
// crash of the process, not of the machine. (A file with no directory has
// its record in the journal's segment: segment.go.)
func writeRecordNoSync(dir string, r *record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	path, tmp := filepath.Join(dir, recordName), filepath.Join(dir, recordName+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writeback: journal: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writeback: journal: %w", err)
	}
	removeFlat(dir)
	return nil
}

// removeFlat removes the flat record of dir's file, if any: a record in the
// directory supersedes it.
func removeFlat(dir string) {
	_ = os.Remove(flatPath(dir))
}

// removeJournal removes everything the journal holds for dir's file: its
// directory and its flat record.
func removeJournal(dir string) {
	_ = os.RemoveAll(dir)
	removeFlat(dir)
}

// trashMark names a journal directory set aside for removal:
// .<id>.trash<n>, beside the live ones (journalIDs skips names starting
// with a dot; Recover removes what a previous run left of them).
const trashMark = ".trash"

// setAside renames the journal directory dir to a fresh trash name beside
// it and returns that name ("" when the rename failed). One rename: a crash
// leaves either the directory, whose record is then completed again (the
// same content), or the trash, which is never read.
func setAside(dir string) string {
	var n [8]byte
	_, _ = rand.Read(n[:])
	trash := filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+trashMark+hex.EncodeToString(n[:]))
	if os.Rename(dir, trash) != nil {
		return ""
	}
	return trash
}

// isTrash reports whether a journal root entry is a directory set aside.
func isTrash(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, trashMark)
}

// removeLater removes a journal directory set aside (setAside) in the
// background; at once when the manager is closed.
func (m *Manager) removeLater(trash string) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		_ = os.RemoveAll(trash)
		return
	}
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		_ = os.RemoveAll(trash)
	}()
}

// journalIDs lists the ids of the files the journal directory root holds
// something of (a directory, a flat record, or both), skipping failed/ and
// temporary files.
func journalIDs(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var ids []string
	seen := map[string]bool{}
	for _, e := range entries {
		n := e.Name()
		id := n
		switch {
		case strings.HasPrefix(n, "."), n == failedDir:
			continue
		case e.IsDir():
		case strings.HasSuffix(n, flatExt):
			id = strings.TrimSuffix(n, flatExt)
		default:
			continue
		}
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	return nil
}

// preadFile fills dst from path at off; bytes past the file's end are zeros.
func preadFile(path string, dst []byte, off int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	defer f.Close()
	n, err := f.ReadAt(dst, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	clear(dst[n:])
	return nil
}
