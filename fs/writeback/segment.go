// The journal's segments: an append-only log of the records of flat commits.

package writeback

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// A commit of a file with no journal directory (all its blocks inside its
// record) writes its record as one line appended to the journal's active
// segment, `.seg-<seq>.ndjson` in the journal root, and its completion as
// another line: two writes to a file already open, where a flat record
// file cost a create, a write, a rename and an unlink in the journal
// directory (the largest part of the daemon's CPU for a small file). Like
// the flat record it replaces on this path, the line is not fsynced: it
// survives a crash of the process, not of the machine; the commit runs now
// and its caller learns of success only once the data is on the server.
// What must outlive a power loss — a failed commit kept for a retry, a
// conflict copy's new target — is written as a flat record, fsynced
// (writeRecord), and a completion line takes the segment's out of play.
//
// Lines are JSON objects: {"put":RECORD} or {"done":"ID"}. A later line
// supersedes an earlier one of the same id, and segments are replayed in
// order of their sequence number, so a completion may follow its put in a
// later segment. A segment is removed once every put in it and in every
// older segment is complete (removal in order, so no completion line goes
// before the put it cancels); the active one is replaced by a new segment
// once it holds segMax bytes.
//
// Recovery (replaySegments, from Recover) reads the segments of earlier
// runs, writes each still-pending record as a flat record (fsynced) —
// unless the file's directory holds a record, which is newer —, and then
// removes them: the rest of Recover reads flat records as before. A torn
// last line (a crash mid-write) is skipped; so is any line that does not
// parse, logged.
//
// A line is at most segLineMax bytes: put refuses a record that would make
// a longer one (errSegLineTooLong) and the commit writes it as a flat
// record instead. The records that go to a segment are those of files
// without block files, whose blocks are inline (at most inlineMax bytes
// each, base64 in the line), so a line is mostly small; what can make one
// long is the record's hashmap (a small edit at the end of a large file:
// 15 000 hashes, a 60 GiB file of 4 MiB blocks, make 1 MiB), or many
// inline blocks on a server with blocks of 64 KiB or less. Replay reads a
// line into at most segLineMax bytes: a longer one (a corrupt segment, or
// a record an earlier build wrote, which had no such bound and read lines
// of up to 1 GiB) is not replayed, and its segment is kept aside as
// .seg-<seq>.ndjson.oversized, logged, instead of being removed.
const (
	segPrefix     = ".seg-"
	segExt        = ".ndjson"
	segMax        = 4 << 20
	segLineMax    = 1 << 20
	segOversized  = ".oversized"
	segReadBuffer = 64 << 10
)

// errSegLineTooLong: the record would make a segment line longer than
// segLineMax; the caller writes it as a flat record.
var errSegLineTooLong = errors.New("writeback: journal: record too long for a segment line")

type segLine struct {
	Put  *record `json:"put,omitempty"`
	Done string  `json:"done,omitempty"`
}

type segment struct {
	seq  int
	live int // puts in it not complete
}

// segLog is the journal's append-only record log. Its mu is a leaf: no
// other lock is taken while holding it.
type segLog struct {
	root string
	max  int64 // bytes a segment takes before the next starts (segMax)

	mu     sync.Mutex
	opened bool
	first  int // the first sequence number of this run: lower ones are earlier runs'
	next   int // the next segment's sequence number
	f      *os.File
	size   int64
	segs   []*segment // this run's, oldest first; the last is the active one
	where  map[string]*segment
	broken error // a write failed: the segment may end in a torn line
}

func newSegLog(root string) *segLog {
	return &segLog{root: root, max: segMax, where: map[string]*segment{}}
}

func segName(seq int) string { return fmt.Sprintf("%s%08d%s", segPrefix, seq, segExt) }

// segSeqs lists the sequence numbers of the segments in root, ascending.
func segSeqs(root string) ([]int, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var seqs []int
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, segPrefix) || !strings.HasSuffix(n, segExt) {
			continue
		}
		if s, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(n, segPrefix), segExt)); err == nil {
			seqs = append(seqs, s)
		}
	}
	sort.Ints(seqs)
	return seqs, nil
}

// startLocked fixes this run's first sequence number: past every segment
// on disk (l.mu held).
func (l *segLog) startLocked() error {
	if l.opened {
		return nil
	}
	seqs, err := segSeqs(l.root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	l.first = 1
	if len(seqs) > 0 {
		l.first = seqs[len(seqs)-1] + 1
	}
	l.next, l.opened = l.first, true
	return nil
}

// firstSeq is this run's first sequence number.
func (l *segLog) firstSeq() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.startLocked()
	return l.first, err
}

// put appends rec as the pending commit of its file.
func (l *segLog) put(rec *record) error {
	data, err := json.Marshal(segLine{Put: rec})
	if err != nil {
		return err
	}
	if len(data) > segLineMax {
		return fmt.Errorf("%w (%d bytes)", errSegLineTooLong, len(data))
	}
	data = append(data, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.activeLocked(); err != nil {
		return err
	}
	if err := l.appendLocked(data); err != nil {
		return err
	}
	active := l.segs[len(l.segs)-1]
	if old := l.where[rec.ID]; old != nil {
		old.live--
	}
	active.live++
	l.where[rec.ID] = active
	l.trimLocked()
	return nil
}

// done appends the completion of id's pending commit, if it has one here:
// committed, written as a flat record instead, or dropped.
func (l *segLog) done(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.where[id]
	if s == nil {
		return
	}
	if l.activeLocked() != nil {
		return // kept: the put stays live, the segment too
	}
	data, _ := json.Marshal(segLine{Done: id})
	if l.appendLocked(append(data, '\n')) != nil {
		return
	}
	s.live--
	delete(l.where, id)
	l.trimLocked()
}

// activeLocked opens the active segment, or a new one in place of a full
// or broken one (l.mu held).
func (l *segLog) activeLocked() error {
	if l.f != nil && l.size < l.max && l.broken == nil {
		return nil
	}
	if err := l.startLocked(); err != nil {
		return err
	}
	seq := l.next
	f, err := os.OpenFile(filepath.Join(l.root, segName(seq)), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	if l.f != nil {
		_ = l.f.Close()
	}
	l.f, l.size, l.broken = f, 0, nil
	l.next++
	l.segs = append(l.segs, &segment{seq: seq})
	return nil
}

// appendLocked writes one line to the active segment (l.mu held).
func (l *segLog) appendLocked(line []byte) error {
	n, err := l.f.Write(line)
	l.size += int64(n)
	if err != nil {
		// A torn line may end the segment: the next write starts a new one
		// (replay skips a line that does not parse).
		l.broken = err
		return fmt.Errorf("writeback: journal: %w", err)
	}
	return nil
}

// trimLocked removes the oldest segments while all their puts are
// complete, never the active one (l.mu held).
func (l *segLog) trimLocked() {
	for len(l.segs) > 1 && l.segs[0].live <= 0 {
		_ = os.Remove(filepath.Join(l.root, segName(l.segs[0].seq)))
		l.segs = l.segs[1:]
	}
	if len(l.segs) == 1 && l.segs[0].live <= 0 && l.size >= l.max {
		// The active segment is full and holds nothing pending: the next
		// put starts a new one, and this one goes.
		_ = l.f.Close()
		_ = os.Remove(filepath.Join(l.root, segName(l.segs[0].seq)))
		l.f, l.segs = nil, nil
	}
}

// close closes the active segment and removes it when nothing in this
// run's segments is pending (a clean unmount leaves no segment).
func (l *segLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return
	}
	_ = l.f.Close()
	l.f = nil
	if len(l.where) == 0 {
		for _, s := range l.segs {
			_ = os.Remove(filepath.Join(l.root, segName(s.seq)))
		}
		l.segs = nil
	}
}

// segRead is what reading one segment found besides its records.
type segRead struct {
	bad      int // lines that did not parse
	oversize int // lines longer than segLineMax, not read
}

// readSegment returns the pending records of one segment file, applied to
// pending (id → record; a completion deletes), holding at most segLineMax
// bytes of a line: a longer one is passed over (counted in oversize).
func readSegment(path string, pending map[string]*record) (segRead, error) {
	var sr segRead
	f, err := os.Open(path)
	if err != nil {
		return sr, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, segReadBuffer)
	var line []byte
	over := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !over && len(line)+len(chunk) > segLineMax+1 { // +1: the newline
			over, line = true, line[:0]
		}
		if !over {
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue // the line goes on
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return sr, err
		}
		switch {
		case over:
			sr.oversize++
		case len(bytes.TrimSpace(line)) > 0:
			readSegLine(line, pending, &sr)
		}
		over, line = false, line[:0]
		if err != nil {
			return sr, nil // io.EOF
		}
	}
}

// readSegLine applies one line of a segment to pending.
func readSegLine(line []byte, pending map[string]*record, sr *segRead) {
	var ln segLine
	if err := json.Unmarshal(line, &ln); err != nil {
		sr.bad++
		return
	}
	switch {
	case ln.Put != nil && ln.Put.ID != "":
		pending[ln.Put.ID] = ln.Put
	case ln.Done != "":
		delete(pending, ln.Done)
	default:
		sr.bad++
	}
}

// replaySegments turns the pending records of earlier runs' segments into
// flat records and removes those segments (see the comment at the top).
// A segment is kept when a record of it could not be written.
func (m *Manager) replaySegments() error {
	root := m.cfg.JournalDir
	first, err := m.seg.firstSeq()
	if err != nil {
		return err
	}
	seqs, err := segSeqs(root)
	if err != nil {
		return fmt.Errorf("writeback: journal: %w", err)
	}
	pending := map[string]*record{}
	var old []int
	aside := map[int]bool{}
	for _, s := range seqs {
		if s >= first {
			break
		}
		old = append(old, s)
		sr, err := readSegment(filepath.Join(root, segName(s)), pending)
		if err != nil {
			return fmt.Errorf("writeback: journal: %w", err)
		}
		if sr.bad > 0 {
			m.log.Warn("writeback: journal segment: skipped lines that do not parse (a crash mid-write)",
				"segment", segName(s), "lines", sr.bad)
		}
		if sr.oversize > 0 {
			aside[s] = true
			m.log.Warn("writeback: journal segment: lines longer than a record can be were not replayed (a corrupt segment, or a record of an earlier build); the segment is kept aside",
				"segment", segName(s), "lines", sr.oversize, "max_bytes", segLineMax, "kept_as", segName(s)+segOversized)
		}
	}
	ids := make([]string, 0, len(pending))
	for id := range pending {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		dir := filepath.Join(root, id)
		if _, err := os.Stat(filepath.Join(dir, recordName)); err == nil {
			continue // the directory's record is newer
		}
		if err := writeRecord(dir, pending[id]); err != nil {
			return err
		}
	}
	for _, s := range old {
		p := filepath.Join(root, segName(s))
		if aside[s] {
			_ = os.Rename(p, p+segOversized)
			continue
		}
		_ = os.Remove(p)
	}
	return nil
}
