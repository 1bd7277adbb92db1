package writeback

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/pithos/object"
)

// Config configures a Manager.
type Config struct {
	// Client commits to the object store. Required.
	Client Store
	// JournalDir holds dirty blocks and pending-commit records (e.g.
	// <cache-dir>/journal). Required.
	JournalDir string
	// Budget is charged BlockSize bytes per dirty block held in memory;
	// nil means Cache's budget, or unlimited memory without a Cache.
	Budget *cache.Budget
	// Cache receives committed blocks (optional).
	Cache *cache.Cache
	// Concurrency bounds parallel block uploads of one commit (0 = the
	// client's default).
	Concurrency int
	// EagerUploads is how many early-upload rounds (eagerBatch filled
	// blocks each: one existence probe, then the missing ones, in
	// parallel) run at once while a sequential writer writes (0 = off). With
	// them a large new file is mostly on the server when close() starts
	// its commit, and dirty memory stays bounded without spilling.
	EagerUploads int
	// MaxFileSize is the largest file size a write or truncate may reach
	// (0 = DefaultMaxFileSize); past it they fail with ErrFileTooLarge.
	MaxFileSize int64
	// IOTimeout fails a commit (and an early-upload round) whose requests
	// make no progress for that long: the data stays in the journal and is
	// retried in the background; the caller gets a CommitError (EIO)
	// instead of waiting for the server without bound. 0 = no bound but
	// CommitTimeout.
	IOTimeout time.Duration
	// StreamUploads makes a file that replaces its object's content on plain
	// Swift go to the server while a sequential writer writes it: one
	// chunked PUT fed block by block, completed by the commit (stream.go).
	StreamUploads bool
	// CommitTimeout bounds one commit attempt (default 30 minutes); commits
	// do not end when the caller's context is cancelled.
	CommitTimeout time.Duration
	// RetryMin and RetryMax bound the background retry backoff of failed
	// commits (defaults 1s and 5m).
	RetryMin, RetryMax time.Duration
	// OnCommit, if set, is called after each successful commit (a
	// background retry's too) with the object's container and name as
	// committed and the file's new base, before the File may be
	// unregistered: the caller's listings show the new version without a
	// moment where the file is neither pending nor listed.
	OnCommit func(container, name string, base Base)
	// Now gives conflict-copy timestamps (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Manager owns the files being written and the journal: it hands out Files,
// retries failed commits in the background, lists pending commits, recovers
// the journal at mount and flushes everything at unmount.
type Manager struct {
	cfg    Config
	log    *slog.Logger
	budget *cache.Budget

	ctx    context.Context // background retries
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards the maps below; a File's mu is taken inside it (never the
	// reverse), and its cmu and wmu before it (File's lock order).
	mu     sync.Mutex
	files  map[fileKey]*File
	byID   map[string]*File
	closed bool
	eager  chan struct{} // early block uploads in flight (nil: disabled)

	readBacks   chan struct{} // spilled blocks read back at once to be hashed (readback.go)
	uploadBacks chan struct{} // and for uploads

	stopping atomic.Bool // StopCommits was called

	seg *segLog // the journal's record log (segment.go)

	stats counters
}

type fileKey struct{ container, name string }

type counters struct {
	commits, conflicts, failures, blocksUploaded, bytesUploaded, spilled, recovered, early atomic.Int64
	streamed, streamFallbacks                                                              atomic.Int64
}

// Stats are the manager's counters since New.
type Stats struct {
	Commits        int64 `json:"commits"`         // successful commits (conflict copies included)
	Conflicts      int64 `json:"conflicts"`       // commits saved as NAME.conflict-<timestamp>
	Failures       int64 `json:"failures"`        // failed commit attempts
	BlocksUploaded int64 `json:"blocks_uploaded"` // blocks the server asked for and got
	BytesUploaded  int64 `json:"bytes_uploaded"`
	Spilled        int64 `json:"spilled"`       // dirty blocks written to the journal for lack of memory
	Recovered      int64 `json:"recovered"`     // journal records completed by Recover
	EarlyUploads   int64 `json:"early_uploads"` // blocks uploaded while being written (included in BlocksUploaded)
	// Streamed counts commits completed by a PUT streamed while the file was
	// written (plain Swift); StreamFallbacks those whose stream failed at the
	// commit, which then uploaded the file from the journal.
	Streamed        int64 `json:"streamed"`
	StreamFallbacks int64 `json:"stream_fallbacks"`
}

// New returns a manager. Call Recover before opening files to complete the
// commits a previous run left in the journal.
func New(cfg Config) (*Manager, error) {
	if cfg.Client == nil || cfg.JournalDir == "" {
		return nil, errors.New("writeback: Config.Client and Config.JournalDir are required")
	}
	if err := os.MkdirAll(cfg.JournalDir, 0o700); err != nil {
		return nil, fmt.Errorf("writeback: journal: %w", err)
	}
	if cfg.CommitTimeout <= 0 {
		cfg.CommitTimeout = 30 * time.Minute
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{cfg: cfg, log: cfg.Logger, budget: cfg.Budget, files: map[fileKey]*File{}, byID: map[string]*File{},
		seg: newSegLog(cfg.JournalDir), readBacks: newReadBacks(),
		uploadBacks: make(chan struct{}, uploadReadBackSlots)}
	if m.budget == nil && cfg.Cache != nil {
		m.budget = cfg.Cache.Budget()
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	if cfg.EagerUploads > 0 {
		m.eager = make(chan struct{}, cfg.EagerUploads)
	}
	return m, nil
}

// Stats returns the counters.
func (m *Manager) Stats() Stats {
	s := &m.stats
	return Stats{Commits: s.commits.Load(), Conflicts: s.conflicts.Load(), Failures: s.failures.Load(),
		BlocksUploaded: s.blocksUploaded.Load(), BytesUploaded: s.bytesUploaded.Load(), Spilled: s.spilled.Load(),
		Recovered: s.recovered.Load(), EarlyUploads: s.early.Load(), Streamed: s.streamed.Load(),
		StreamFallbacks: s.streamFallbacks.Load()}
}

// Open returns the File of base.Container/base.Name for one more handle: the
// one already open (or still holding pending changes) if there is one — base
// is then ignored — else a new File over base. read supplies clean blocks;
// nil reads them straight from the object store. Each Open is paired with a
// File.Release.
func (m *Manager) Open(base Base, read BlockReader) (*File, error) {
	if base.Container == "" || base.Name == "" {
		return nil, errors.New("writeback: Open: container and name are required")
	}
	if base.BlockSize <= 0 {
		return nil, fmt.Errorf("writeback: Open %s: block size %d", base.Name, base.BlockSize)
	}
	if !base.Swift && base.ETag != "" && int64(len(base.Hashes)) < hashmap.NumBlocks(base.Size, base.BlockSize) && base.Size > 0 {
		return nil, fmt.Errorf("writeback: Open %s: %d hashes for %d bytes", base.Name, len(base.Hashes), base.Size)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("writeback: manager closed")
	}
	k := fileKey{base.Container, base.Name}
	if f := m.files[k]; f != nil {
		f.mu.Lock()
		f.refs++
		f.mu.Unlock()
		return f, nil
	}
	id := newID()
	f := &File{m: m, id: id, dir: filepath.Join(m.cfg.JournalDir, id), base: base, create: base.ETag == "",
		size: base.Size, dirty: map[int64]*block{}, clip: noClip, refs: 1}
	f.base.Hashes = append([]string(nil), base.Hashes...)
	if base.Swift {
		f.base.Hashes = nil
	}
	if f.create {
		f.since = time.Now()
	}
	f.read = read
	if f.read == nil {
		f.read = m.directReader(f)
	}
	m.files[k] = f
	m.byID[id] = f
	return f, nil
}

// directReader reads base blocks with range GETs pinned to the base ETag.
func (m *Manager) directReader(f *File) BlockReader {
	return func(ctx context.Context, index int64, _ string, size int) ([]byte, error) {
		b := f.Base()
		opts := object.GetOptions{Version: b.Version}
		if b.Version == 0 {
			opts.IfMatch = b.ETag
		}
		return m.cfg.Client.ReadRange(ctx, b.Container, b.Name, index*b.BlockSize, int64(size), b.Size, opts)
	}
}

// Acquire returns the registered File of container/name for one more handle
// (paired with a File.Release), or nil when none is registered. Unlike
// Lookup followed by Open it cannot race with the last Release of the File.
func (m *Manager) Acquire(container, name string) *File {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.files[fileKey{container, name}]
	if f != nil {
		f.mu.Lock()
		f.refs++
		f.mu.Unlock()
	}
	return f
}

// Lookup returns the registered File of container/name, or nil.
func (m *Manager) Lookup(container, name string) *File {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.files[fileKey{container, name}]
}

// Rename moves a registered File to a new name after a server-side move (which
// keeps the object's ETag); it waits for a commit in progress.
func (m *Manager) Rename(container, name, newContainer, newName string) {
	f := m.Lookup(container, name)
	if f == nil {
		return
	}
	f.cmu.Lock()
	defer f.cmu.Unlock()
	m.retarget(f, newContainer, newName)
}

// FilesIn returns the registered Files directly inside directory dir of
// container ("" = its root), by their base names.
func (m *Manager) FilesIn(container, dir string) map[string]*File {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]*File{}
	pre := ""
	if dir != "" {
		pre = dir + "/"
	}
	for k, f := range m.files {
		if k.container != container || !strings.HasPrefix(k.name, pre) {
			continue
		}
		if rest := k.name[len(pre):]; rest != "" && !strings.Contains(rest, "/") {
			out[rest] = f
		}
	}
	return out
}

// RenameTree moves every registered File below the directory prefix/ of
// container to newPrefix/ of newContainer, after a server-side move of the
// directory with its subtree.
func (m *Manager) RenameTree(container, prefix, newContainer, newPrefix string) {
	m.mu.Lock()
	var moved []*File
	for k, f := range m.files {
		if k.container == container && strings.HasPrefix(k.name, prefix+"/") {
			moved = append(moved, f)
		}
	}
	m.mu.Unlock()
	for _, f := range moved {
		b := f.Base()
		if b.Container != container || !strings.HasPrefix(b.Name, prefix+"/") {
			continue
		}
		m.Rename(container, b.Name, newContainer, newPrefix+b.Name[len(prefix):])
	}
}

// retarget re-keys f under a new name (f.cmu held, f.mu not held).
func (m *Manager) retarget(f *File, container, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f.mu.Lock()
	old := fileKey{f.base.Container, f.base.Name}
	f.base.Container, f.base.Name = container, name
	f.mu.Unlock()
	if m.files[old] == f {
		delete(m.files, old)
	}
	m.files[fileKey{container, name}] = f
}

func (m *Manager) release1(f *File) {
	m.mu.Lock()
	f.mu.Lock()
	f.refs--
	idle := f.refs <= 0 && !f.pendingLocked()
	orphanDone := f.refs <= 0 && f.orphan
	f.mu.Unlock()
	if idle {
		m.unregisterLocked(f)
	}
	m.mu.Unlock()
	if orphanDone {
		f.Discard() // the last handle of an unlinked file: its blocks and journal go
	}
}

// forget unregisters f (discarded).
func (m *Manager) forget(f *File) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unregisterLocked(f)
}

// maybeForget unregisters f when it has no handles and nothing pending.
func (m *Manager) maybeForget(f *File) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f.mu.Lock()
	idle := f.refs <= 0 && !f.pendingLocked()
	f.mu.Unlock()
	if idle {
		m.unregisterLocked(f)
	}
}

func (m *Manager) unregisterLocked(f *File) {
	f.mu.Lock()
	k := fileKey{f.base.Container, f.base.Name}
	f.gone = true
	if f.timer != nil {
		f.timer.Stop()
	}
	f.mu.Unlock()
	if m.files[k] == f {
		delete(m.files, k)
	}
	delete(m.byID, f.id)
}

func (m *Manager) reserve(n int64) bool {
	if m.budget == nil {
		return true
	}
	return m.budget.TryReserveDirty(n)
}

func (m *Manager) release(n int64) {
	if m.budget != nil {
		m.budget.ReleaseDirty(n)
	}
}

// scheduleRetry arms f's background retry after a failed commit.
func (m *Manager) scheduleRetry(f *File) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gone {
		return
	}
	d := m.cfg.RetryMin << min(max(f.failures-1, 0), 20)
	if d > m.cfg.RetryMax || d <= 0 {
		d = m.cfg.RetryMax
	}
	if f.timer != nil {
		f.timer.Stop()
	}
	f.timer = time.AfterFunc(d, func() {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return
		}
		m.wg.Add(1)
		m.mu.Unlock()
		defer m.wg.Done()
		if err := f.commit(m.ctx, nil); err != nil {
			m.log.Debug("writeback: background retry failed", "name", f.Base().Name, "error", err)
		}
	})
	m.log.Info("writeback: commit will be retried", "name", f.base.Name, "in", d, "failures", f.failures)
}

// Close stops background retries (waiting for one in progress) without
// flushing; pending commits stay in the journal for Recover.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	for _, f := range m.byID {
		f.mu.Lock()
		if f.timer != nil {
			f.timer.Stop()
		}
		f.mu.Unlock()
	}
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	m.seg.close()
	return nil
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
