package fs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	lru "github.com/hashicorp/golang-lru/v2"
	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/cache"
	"github.com/pithosfs/pithosfs/fs/control"
	"github.com/pithosfs/pithosfs/fs/history"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/internal/ino"
	"github.com/pithosfs/pithosfs/pithos"
)

// Remote is what a mount shows at its root: everything (all fields empty:
// accounts, then containers), one account's containers, or one container
// (optionally below a prefix).
type Remote struct {
	Account   string // uuid (or, on Swift, AUTH_name); "" = the user's own when Container is set
	Container string
	Prefix    string // without leading or trailing "/"
}

// NameResolver maps account uuids to user names and back (Astakos user
// catalogs). Unknown entries are absent from the maps.
type NameResolver interface {
	UUIDsToNames(ctx context.Context, uuids []string) (map[string]string, error)
	NamesToUUIDs(ctx context.Context, names []string) (map[string]string, error)
}

// Config configures a mount's node tree.
type Config struct {
	// Client is the object store as the user's own account: a
	// *pithos.Client in a mount, an in-memory fake in unit tests.
	Client Store
	// Accounts returns the store of another account (PithosAccounts(c)
	// for a *pithos.Client c); required with Client.
	Accounts Accounts
	// UserName is the display name of the user's own account ("" = its uuid).
	UserName string
	// Names resolves other accounts' names; nil shows uuids.
	Names NameResolver
	// Cache holds blocks; required.
	Cache *cache.Cache
	// Stats counts file operations and shows the requests of its
	// metrics.Tally (NewStats); nil creates one without request counts.
	Stats *Stats
	// Remote is the subtree shown at the root.
	Remote Remote
	// AttrTTL is how long the kernel may cache attributes, entries and
	// negative lookups (default 1s). ListTTL is how long a directory
	// listing answers lookups and readdirs (default 5s).
	AttrTTL, ListTTL time.Duration
	// Readahead is the largest readahead window in blocks (default 8).
	Readahead int
	// NoPassthrough serves read-only opens of an assembled object file
	// through the daemon instead of offering the file to the kernel
	// (fs/passthrough.go).
	NoPassthrough bool
	// MaxDirs bounds the number of cached directory listings (default 1024).
	MaxDirs int
	// UID and GID own every file (default: the mounting process's).
	UID, GID uint32
	// JournalDir holds the write path's journals (one directory per
	// account); "" makes files read-only (EROFS on open for writing).
	JournalDir string
	// ReadOnly mounts read-only (the kernel refuses every change with
	// EROFS): --read-only, and time-travel mounts (--at).
	ReadOnly bool
	// Control, when set, shows the cloud control trees (servers/, images/,
	// volumes/, snapshots/, flavors/, networks/) at the root of a
	// whole-cloud mount.
	Control *control.Config
	// Logger receives errors (each logged once, with path and status).
	Logger *zap.Logger
	// AsyncCloseMax, when positive, makes close() of a new file of at most
	// that many bytes return before the file is on the server: its commit
	// runs in the background (fs/asyncclose.go). 0: close() waits.
	AsyncCloseMax int64
	// AllowOther lets other users use the mount (allow_other), with the
	// kernel checking permissions (default_permissions).
	AllowOther bool
	// IOTimeout fails a commit whose requests make no progress for that
	// long (EIO; the data stays in the journal and is committed when the
	// server is back); 0 = no such bound. The clients' own requests are
	// bounded by synnefo.Options.IOTimeout.
	IOTimeout time.Duration
}

// startTime is the mtime of the control files.
var startTime = time.Now()

// fsys is the state shared by every node of one mount.
type fsys struct {
	cfg   Config
	log   *zap.Logger
	cache *cache.Cache
	stats *Stats
	lists *listCache
	mem   *memRelease
	async *asyncCloser // nil unless Config.AsyncCloseMax > 0
	self  *account
	// hist is .pithosfs/versions and .pithosfs/deleted (fs/history).
	hist *history.Views

	mu       sync.Mutex
	accounts map[string]*account           // by uuid
	managers map[string]*writeback.Manager // by account uuid
	adopted  map[string]uint64             // "account/uuid" → inode of a file created here (fs/dir.go)

	// long maps shortened names to the segments they stand for, skipped
	// holds the listing entries not shown (logged once); fs/names.go.
	long    *lru.Cache[string, string]
	skipped *lru.Cache[string, struct{}]
}

// account is one account the mount shows, with a client addressing it.
type account struct {
	uuid, name string
	client     Store
}

func newFsys(cfg Config) (*fsys, error) {
	if cfg.Client == nil || cfg.Accounts == nil || cfg.Cache == nil {
		return nil, errors.New("fs: Config.Client, Config.Accounts and Config.Cache are required")
	}
	if cfg.AttrTTL <= 0 {
		cfg.AttrTTL = time.Second
	}
	if cfg.ListTTL <= 0 {
		cfg.ListTTL = 5 * time.Second
	}
	if cfg.Readahead <= 0 {
		cfg.Readahead = cache.DefaultReadaheadBlocks
	}
	if cfg.MaxDirs <= 0 {
		cfg.MaxDirs = 1024
	}
	if cfg.UID == 0 && cfg.GID == 0 {
		cfg.UID, cfg.GID = uint32(os.Getuid()), uint32(os.Getgid())
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Stats == nil {
		cfg.Stats = NewStats(nil)
	}
	s := &fsys{cfg: cfg, log: cfg.Logger, cache: cfg.Cache, stats: cfg.Stats,
		mem: &memRelease{}, accounts: map[string]*account{},
		managers: map[string]*writeback.Manager{}}
	// At most 8192 shortened names (each under 1.3 KiB with its segment):
	// the least recently used is looked up again through its listing.
	s.long, _ = lru.New[string, string](8192)
	s.skipped, _ = lru.New[string, struct{}](1024)
	s.lists = newListCache(cfg.ListTTL, cfg.MaxDirs, cfg.Cache.Budget(), s.mem)
	s.lists.log = s.log
	if cfg.AsyncCloseMax > 0 {
		s.async = newAsyncCloser()
	}
	name := cfg.UserName
	if name == "" {
		name = cfg.Client.AccountID()
	}
	s.self = &account{uuid: cfg.Client.AccountID(), name: name, client: cfg.Client}
	s.accounts[s.self.uuid] = s.self
	s.hist = s.historyViews()
	return s, nil
}

// accountFor returns the account with this uuid, creating its client.
func (s *fsys) accountFor(uuid, name string) *account {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.accounts[uuid]; ok {
		if name != "" && a != s.self {
			a.name = name
		}
		return a
	}
	if name == "" {
		name = uuid
	}
	a := &account{uuid: uuid, name: name, client: s.cfg.Accounts(uuid)}
	s.accounts[uuid] = a
	return a
}

// NewRoot returns the root node of a mount configured by cfg.
func NewRoot(cfg Config) (gofs.InodeEmbedder, error) {
	s, err := newFsys(cfg)
	if err != nil {
		return nil, err
	}
	return s.root(), nil
}

func (s *fsys) root() gofs.InodeEmbedder {
	cfg := s.cfg
	r := cfg.Remote
	switch {
	case r.Container != "":
		acct := s.self
		if r.Account != "" && r.Account != s.self.uuid {
			acct = s.accountFor(r.Account, "")
		}
		under := ""
		if r.Prefix != "" {
			under = r.Prefix + "/"
		}
		return &dirNode{sys: s, top: &topDir{acct: acct, container: r.Container, under: under}}
	case r.Account != "":
		acct := s.self
		if r.Account != s.self.uuid {
			acct = s.accountFor(r.Account, "")
		}
		return &accountNode{sys: s, acct: acct}
	}
	return &rootNode{sys: s}
}

// Options returns the go-fuse options of a mount: kernel cache timeouts,
// throughput settings and identification.
func Options(cfg Config, fsName string, debug bool) *gofs.Options {
	ttl := cfg.AttrTTL
	if ttl <= 0 {
		ttl = time.Second
	}
	logger := cfg.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return &gofs.Options{
		EntryTimeout:    &ttl,
		AttrTimeout:     &ttl,
		NegativeTimeout: &ttl,
		UID:             cfg.UID,
		GID:             cfg.GID,
		// A stored mode of 0000 (open(O_CREAT, 0), chmod 0) stays 0000;
		// every node fills its permission bits.
		NullPermissions: true,
		MountOptions: fuse.MountOptions{
			FsName:               fsName,
			Name:                 "pithosfs",
			MaxWrite:             maxWrite,
			MaxBackground:        64,
			ExtraCapabilities:    killCapabilities, // no GETXATTR before every WRITE (killpriv.go)
			DisableXAttrs:        false,            // user.* and user.pithos.* (fs/xattr.go)
			IgnoreSecurityLabels: false,            // security.* and system.* are answered by xattrProbeFS
			Debug:                debug,
			Logger:               fuseLogger(logger.Named("fuse"), debug),
			AllowOther:           cfg.AllowOther,
			Options:              mountFlags(cfg),
		},
	}
}

// Mounted is a live mount.
type Mounted struct {
	Server *fuse.Server
	sys    *fsys
}

// Mount mounts cfg's tree at mountpoint.
func Mount(mountpoint string, cfg Config, fsName string, debug bool) (*Mounted, error) {
	s, err := newFsys(cfg)
	if err != nil {
		return nil, err
	}
	if s.cfg.JournalDir != "" {
		// Complete what a previous run of this account left in the journal.
		if _, errno := s.manager(context.Background(), s.self); errno != 0 {
			return nil, fmt.Errorf("fs: journal in %s: %w", s.cfg.JournalDir, errno)
		}
	}
	opts := Options(s.cfg, fsName, debug)
	raw := frontFS(gofs.NewNodeFS(s.root(), opts), s.stats, s.cache.Budget())
	srv, err := fuse.NewServer(raw, mountpoint, &opts.MountOptions)
	if err != nil {
		return nil, fmt.Errorf("fs: mounting at %s: %w", mountpoint, err)
	}
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		_ = srv.Unmount()
		return nil, fmt.Errorf("fs: mounting at %s: %w", mountpoint, err)
	}
	RaiseReadahead(mountpoint, s.log)
	return &Mounted{Server: srv, sys: s}, nil
}

// RaiseReadahead sets the mount's kernel readahead to 4 MiB (one Pithos
// block) so sequential reads reach the daemon as 1 MiB requests rather than
// 128 KiB ones. It needs root (the bdi's sysfs file); otherwise the kernel
// default stays.
func RaiseReadahead(mountpoint string, log *zap.Logger) {
	var st syscall.Stat_t
	if err := syscall.Stat(mountpoint, &st); err != nil {
		return
	}
	major, minor := (st.Dev>>8)&0xfff|(st.Dev>>32)&^0xfff, st.Dev&0xff|(st.Dev>>12)&^0xff
	p := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", major, minor)
	if err := os.WriteFile(p, []byte("4096"), 0o644); err != nil {
		log.Debug("fs: kernel readahead left at its default", zap.String("bdi", p), zap.Error(err))
	}
}

// StopCommits makes commits stop short of the server from now on, their
// changes kept in the journal for the next mount (a second Ctrl-C at
// unmount); see writeback.Manager.StopCommits.
func (m *Mounted) StopCommits() {
	m.sys.mu.Lock()
	defer m.sys.mu.Unlock()
	for _, w := range m.sys.managers {
		w.StopCommits()
	}
}

// FlushAll commits every file with unflushed changes (before unmounting),
// reporting progress.
func (m *Mounted) FlushAll(ctx context.Context, progress func(writeback.FlushProgress)) error {
	m.sys.mu.Lock()
	ms := make([]*writeback.Manager, 0, len(m.sys.managers))
	for _, w := range m.sys.managers {
		ms = append(ms, w)
	}
	m.sys.mu.Unlock()
	var errs []error
	for _, w := range ms {
		errs = append(errs, w.FlushAll(ctx, progress))
	}
	return errors.Join(errs...)
}

// Close stops the write path's background retries; what is still pending
// stays in the journal for the next mount.
func (m *Mounted) Close() error {
	m.sys.mu.Lock()
	defer m.sys.mu.Unlock()
	for _, w := range m.sys.managers {
		w.Close()
	}
	return nil
}

// inoOf is a stable inode number for an identity string (ino.Of).
func inoOf(parts ...string) uint64 { return ino.Of(parts...) }

func (s *fsys) dirAttr(out *fuse.Attr, ino uint64, mtime time.Time) {
	out.Mode = fuse.S_IFDIR | 0o755
	out.Ino = ino
	out.Nlink = 2
	out.Owner = fuse.Owner{Uid: s.cfg.UID, Gid: s.cfg.GID}
	out.Blksize = 1 << 20
	setTimes(out, mtime)
}

func setTimes(out *fuse.Attr, t time.Time) {
	if t.IsZero() {
		return
	}
	out.SetTimes(&t, &t, &t)
}

// statfs answers from the user's account quota and usage.
func (s *fsys) statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	info, err := s.self.client.AccountInfo(pithos.FailFast(ctx)) // `df` need not wait for retries of a server not there
	if err != nil {
		return s.fail("statfs", s.self.uuid, err)
	}
	const bsize = 4096
	total := info.Quota
	if total <= 0 {
		total = 1 << 50 // unknown or unlimited
	}
	used := min(info.BytesUsed, total)
	out.Bsize, out.Frsize = bsize, bsize
	out.Blocks = uint64(total / bsize)
	out.Bfree = uint64((total - used) / bsize)
	out.Bavail = out.Bfree
	out.Files = 1 << 40
	out.Ffree = 1 << 40
	out.NameLen = nameMax // longer names are ENAMETOOLONG (fs/names.go)
	return 0
}
