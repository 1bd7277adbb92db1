package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/fs/errmap"
	"github.com/pithosfs/pithosfs/fs/internal/fixed"
	"github.com/pithosfs/pithosfs/internal/ino"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/cyclades"
	"github.com/pithosfs/pithosfs/synnefo/fault"
	"github.com/pithosfs/pithosfs/synnefo/image"
)

// Config says which services the control trees use; a nil client leaves its
// directories out.
type Config struct {
	Compute *cyclades.ComputeClient      // servers/, flavors/
	Network *cyclades.NetworkClient      // networks/
	Images  *image.Client                // images/
	Volumes *cyclades.BlockStorageClient // volumes/, snapshots/
	// Pithos is the user's own object store (Account set): files copied into
	// images/ are uploaded to its "images" container.
	Pithos ImageStore
	// Account is the user's uuid (the owner of "/CONTAINER/PATH" locations).
	Account string
	// ResolvePath maps a path inside the mount (as a user writes it in an
	// image's "location") to a Pithos location; nil accepts only
	// pithos:// and /CONTAINER/PATH locations.
	ResolvePath func(path string) (image.Location, bool)
	// AllowDeleteServers lets rm servers/NAME.json delete the server.
	AllowDeleteServers bool
	// AllowDeleteVolumes lets rm volumes/NAME.json and snapshots/NAME.json
	// delete the volume or the snapshot.
	AllowDeleteVolumes bool
	// TTL bounds how stale a listing or a file's size may be (default 1s).
	TTL time.Duration
	// TempDir holds files being copied into images/ until they are uploaded.
	TempDir string
	Logger  *zap.Logger
}

// ImageStore is what images/ needs of the object store: the "images"
// container and whole-file uploads into it (*pithos.Client, as one account).
type ImageStore interface {
	CreateContainer(ctx context.Context, container string, opts pithos.CreateContainerOptions) (bool, error)
	UploadObject(ctx context.Context, container, name string, src io.Reader, opts pithos.UploadOptions) (*pithos.PutResult, error)
}

var _ ImageStore = (*pithos.Client)(nil)

// Add creates the control directories under root. Call it from the root
// node's OnAdd.
func Add(ctx context.Context, root *gofs.Inode, cfg Config) {
	if cfg.TTL <= 0 {
		cfg.TTL = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	add := func(name string, k kind) {
		now := time.Now()
		d := &dirNode{cfg: &cfg, name: name, kind: k, adminPass: map[string]string{}, lastErrAt: now, started: now}
		child := root.NewPersistentInode(ctx, d, gofs.StableAttr{Mode: fuse.S_IFDIR, Ino: inode("dir", name)})
		root.AddChild(name, child, true)
	}
	if cfg.Compute != nil {
		add("servers", &servers{cfg: &cfg})
		add("flavors", &flavors{cfg: &cfg})
	}
	if cfg.Images != nil {
		add("images", &images{cfg: &cfg})
	}
	if cfg.Network != nil {
		add("networks", &networks{cfg: &cfg})
	}
	if cfg.Volumes != nil {
		add("volumes", &volumes{cfg: &cfg})
		add("snapshots", &snapshots{cfg: &cfg})
	}
}

// Names lists the directories Add creates for cfg (for callers that must
// keep those names free of other entries).
func Names(cfg Config) []string {
	var out []string
	if cfg.Compute != nil {
		out = append(out, "servers", "flavors")
	}
	if cfg.Images != nil {
		out = append(out, "images")
	}
	if cfg.Network != nil {
		out = append(out, "networks")
	}
	if cfg.Volumes != nil {
		out = append(out, "volumes", "snapshots")
	}
	return out
}

// entry is one file of a control directory.
type entry struct {
	name string // file name, "<name>.json"
	id   string
	mine bool // writable by the user
}

// kind is what differs between control directories.
type kind interface {
	list(ctx context.Context) ([]entry, error)
	render(ctx context.Context, id string) ([]byte, error)
	// create makes a new resource from a file written to name; it returns
	// the new id and, for servers, the one-time admin password.
	create(ctx context.Context, name string, data []byte) (id, adminPass string, err error)
	// check validates a complete JSON document at write time (new: a
	// create; else an update of id).
	check(ctx context.Context, name, id string, data []byte) error
	update(ctx context.Context, id string, data []byte) error
	remove(ctx context.Context, id string) error
	// upload reports whether a non-JSON file may be created (images/).
	uploads() bool
	uploadAndRegister(ctx context.Context, name string, r io.ReaderAt, size int64) (id string, err error)
}

// userError is a rejection with the errno a caller sees and the reason
// written to .last-error.
type userError struct {
	errno syscall.Errno
	msg   string
}

func (e *userError) Error() string { return e.msg }

// Errno is the errno the caller sees (fs/errmap honours it).
func (e *userError) Errno() syscall.Errno { return e.errno }

func invalid(format string, args ...any) error {
	return &userError{errno: syscall.EINVAL, msg: fmt.Sprintf(format, args...)}
}

// errnoOf maps a failure to the errno the user sees (fs/errmap, the
// mount's one table): for a request a written spec made (op create, write,
// update, upload), a resource it names that does not exist makes the spec
// invalid (EINVAL); otherwise a missing one is ENOENT, a conflict with a
// resource's state EBUSY, quota EDQUOT, no access EACCES, the rest EIO.
func errnoOf(op string, err error) syscall.Errno {
	switch op {
	case "create", "write", "update", "upload":
		return errmap.Spec(err)
	}
	return errmap.Errno(err)
}

// inode derives a stable inode number for a control node, in the upper
// half of the number space so it never meets an object's (ino.Tagged).
func inode(parts ...string) uint64 {
	return ino.Tagged(append([]string{"pithosfs-control"}, parts...)...)
}

// fileName turns a resource name into a file name ("/" is not allowed in one).
func fileName(name string) string {
	name = strings.ReplaceAll(name, "/", "_")
	if name == "" || name == "." || name == ".." {
		name = "_" + name
	}
	return name + ".json"
}

// nameEntries names each resource "<name>.json", or "<name>~<id>.json" when
// several share a name, sorted by name.
func nameEntries(items []entry) []entry {
	count := map[string]int{}
	for _, it := range items {
		count[it.name]++
	}
	out := make([]entry, 0, len(items))
	for _, it := range items {
		n := it.name
		if count[n] > 1 {
			n = n + "~" + it.id
		}
		it.name = fileName(n)
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// decodeStrict decodes a complete JSON document, refusing unknown fields.
// complete is false (and err nil) while the document is still a prefix.
func decodeStrict(data []byte, v any) (complete bool, err error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, invalid("bad JSON: %v", err)
	}
	if dec.More() {
		return false, invalid("bad JSON: more than one document")
	}
	return true, nil
}

func pretty(v any) []byte {
	b, _ := json.MarshalIndent(v, "", "  ")
	return append(b, '\n')
}

// dirNode is one control directory.
type dirNode struct {
	gofs.Inode
	fixed.Dir // no subdirectories, renames or links (fs/internal/fixed)
	cfg       *Config
	name      string
	kind      kind

	mu        sync.Mutex
	cached    []entry   // the last list the cloud gave (nil: none yet)
	cachedAt  time.Time // when
	outdated  bool      // a change of ours: list again at the next use
	staleLog  bool      // the last list answered for a cloud not there, logged
	lastErr   string
	lastErrAt time.Time         // the mount's start until the first error
	started   time.Time         // the directory's times: when the mount started
	adminPass map[string]string // server id -> password, shown once
}

var (
	_ gofs.NodeReaddirer = (*dirNode)(nil)
	_ gofs.NodeLookuper  = (*dirNode)(nil)
	_ gofs.NodeCreater   = (*dirNode)(nil)
	_ gofs.NodeUnlinker  = (*dirNode)(nil)
	_ gofs.NodeGetattrer = (*dirNode)(nil)
)

const lastErrorName = ".last-error"

func (d *dirNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = fuse.S_IFDIR | 0o755
	out.Nlink = 2
	out.SetTimes(&d.started, &d.started, &d.started)
	out.SetTimeout(d.cfg.TTL)
	return 0
}

// entries returns the directory's files, listing the cloud at most once per
// TTL. When no server is there to answer (connection refused, host
// unreachable: fault.ErrUnreachable) the list is not retried: the last one
// answers at once, however old, as an object directory's last listing does
// (logged once at warn until a list succeeds again); with none yet, the error.
func (d *dirNode) entries(ctx context.Context, fresh bool) ([]entry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !fresh && d.cached != nil && !d.outdated && time.Since(d.cachedAt) < d.cfg.TTL {
		return d.cached, nil
	}
	items, err := d.kind.list(pithos.FailFast(ctx))
	if err != nil {
		if d.cached == nil || !errors.Is(err, fault.ErrUnreachable) {
			return nil, err
		}
		if !d.staleLog {
			d.staleLog = true
			d.cfg.Logger.Warn("cloud unreachable: answering from the last list", zap.String("path", d.name),
				zap.Duration("age", time.Since(d.cachedAt).Round(time.Second)), zap.Error(err))
		}
		return d.cached, nil
	}
	d.cached, d.cachedAt, d.outdated, d.staleLog = nameEntries(items), time.Now(), false, false
	return d.cached, nil
}

// invalidate makes the next use list the cloud again; the last list stays
// to answer if the cloud is then not there.
func (d *dirNode) invalidate() {
	d.mu.Lock()
	d.outdated = true
	d.mu.Unlock()
}

// applyCtx is the context of a request a user's write, close or rm makes
// (a create, an action, a delete): a FUSE interrupt must not abort it
// half-way, and with no server there to answer (connection refused, no
// route, no such host: nothing was sent) it is not retried, so the caller
// gets EIO at once rather than after the client's retries (4–5 s for each
// request, a minute when each dial times out), as a listing does. A server
// that answers 5xx or drops the connection is retried as before where the
// request is idempotent; a create (POST) never is once it may have been
// sent, so a lost reply cannot make a second server.
func applyCtx(ctx context.Context) context.Context {
	return pithos.FailFast(context.WithoutCancel(ctx))
}

// outcome is what a failed request's .last-error line adds about the
// cloud's state: nothing was sent, or it may have been applied.
func outcome(op string, err error) string {
	var ue *userError
	switch {
	case errors.As(err, &ue):
		return ""
	case errors.Is(err, fault.ErrUnreachable):
		return "; the cloud is not reachable: nothing was sent"
	case op != "create" && op != "update" && op != "rm" && op != "upload":
		return ""
	case errors.Is(err, fault.ErrUnavailable):
		return "; the reply was lost or the cloud failed: the request may have been applied, look before trying again"
	}
	return ""
}

// fail records a rejected request in .last-error and the log, and returns
// its errno.
func (d *dirNode) fail(op, name string, err error) syscall.Errno {
	errno := errnoOf(op, err)
	msg := fmt.Sprintf("%s %s %s/%s: %v%s (%s)\n", time.Now().UTC().Format(time.RFC3339), op, d.name, name, err,
		outcome(op, err), errno)
	d.mu.Lock()
	d.lastErr, d.lastErrAt = msg, time.Now()
	d.mu.Unlock()
	d.cfg.Logger.Warn("control request rejected", zap.String("op", op), zap.String("path", d.name+"/"+name),
		zap.Int("status", errmap.Status(err)), zap.Error(err))
	return errno
}

func (d *dirNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	es, err := d.entries(ctx, true)
	if err != nil {
		return nil, d.fail("list", "", err)
	}
	out := []fuse.DirEntry{{Name: lastErrorName, Mode: fuse.S_IFREG, Ino: inode(d.name, lastErrorName)}}
	for _, e := range es {
		out = append(out, fuse.DirEntry{Name: e.name, Mode: fuse.S_IFREG, Ino: inode(d.name, e.id)})
	}
	return gofs.NewListDirStream(out), 0
}

// find resolves a file name: "<name>.json", "<name>~<id>.json" or "<id>.json".
func (d *dirNode) find(ctx context.Context, name string) (entry, bool, error) {
	for _, fresh := range []bool{false, true} {
		es, err := d.entries(ctx, fresh)
		if err != nil {
			return entry{}, false, err
		}
		for _, e := range es {
			if e.name == name {
				return e, true, nil
			}
		}
		for _, e := range es {
			if name == e.id+".json" {
				return e, true, nil
			}
		}
	}
	return entry{}, false, nil
}

func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	out.SetEntryTimeout(d.cfg.TTL)
	out.SetAttrTimeout(d.cfg.TTL)
	if name == lastErrorName {
		n := &lastErrorNode{dir: d}
		n.fillAttr(&out.Attr) // its real size and time, never cached: ls -l shows the last error as it is
		out.SetAttrTimeout(0)
		return d.NewInode(ctx, n, gofs.StableAttr{Mode: fuse.S_IFREG, Ino: inode(d.name, lastErrorName)}), 0
	}
	e, ok, err := d.find(ctx, name)
	if err != nil {
		return nil, d.fail("lookup", name, err)
	}
	if !ok {
		return nil, syscall.ENOENT
	}
	n := &fileNode{dir: d, name: e.name, id: e.id, mine: e.mine}
	n.fillAttr(ctx, &out.Attr)
	return d.NewInode(ctx, n, gofs.StableAttr{Mode: fuse.S_IFREG, Ino: inode(d.name, e.id)}), 0
}

func (d *dirNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	if name == lastErrorName {
		return nil, nil, 0, syscall.EACCES
	}
	if !utf8.ValidString(name) {
		// Resource and object names are UTF-8: a file copied into images/
		// was uploaded, then its registration refused (400), leaving an
		// object no listing shows by its name.
		return nil, nil, 0, d.fail("create", name, &userError{errno: syscall.EILSEQ, msg: "a name must be UTF-8: nothing was created"})
	}
	if e, ok, err := d.find(ctx, name); err == nil && ok {
		// An existing resource: open it for writing (an update).
		n := &fileNode{dir: d, name: e.name, id: e.id, mine: e.mine}
		if !n.mine {
			return nil, nil, 0, syscall.EACCES
		}
		ino := d.NewInode(ctx, n, gofs.StableAttr{Mode: fuse.S_IFREG, Ino: inode(d.name, e.id)})
		n.fillAttr(ctx, &out.Attr)
		return ino, &handle{node: n}, fuse.FOPEN_DIRECT_IO, 0
	}
	if !strings.HasSuffix(name, ".json") {
		if !d.kind.uploads() {
			return nil, nil, 0, d.fail("create", name, invalid("only NAME.json files can be created here"))
		}
		u, err := newUpload(d, name)
		if err != nil {
			return nil, nil, 0, d.fail("create", name, err)
		}
		out.Mode = fuse.S_IFREG | 0o644
		ino := d.NewInode(ctx, u, gofs.StableAttr{Mode: fuse.S_IFREG, Ino: inode(d.name, "upload", name, time.Now().String())})
		return ino, u, 0, 0
	}
	n := &fileNode{dir: d, name: name, mine: true}
	out.Mode = fuse.S_IFREG | 0o644
	out.SetEntryTimeout(0)
	ino := d.NewInode(ctx, n, gofs.StableAttr{Mode: fuse.S_IFREG, Ino: inode(d.name, "new", name, time.Now().String())})
	return ino, &handle{node: n, fresh: true}, fuse.FOPEN_DIRECT_IO, 0
}

func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	if name == lastErrorName {
		return syscall.EPERM
	}
	e, ok, err := d.find(ctx, name)
	if err != nil {
		return d.fail("rm", name, err)
	}
	if !ok {
		return syscall.ENOENT
	}
	if err := d.kind.remove(applyCtx(ctx), e.id); err != nil {
		return d.fail("rm", name, err)
	}
	d.invalidate()
	return 0
}

// lastErrorNode is <dir>/.last-error.
type lastErrorNode struct {
	gofs.Inode
	dir *dirNode
}

func (n *lastErrorNode) text() []byte {
	n.dir.mu.Lock()
	defer n.dir.mu.Unlock()
	return []byte(n.dir.lastErr)
}

func (n *lastErrorNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.fillAttr(&out.Attr)
	out.SetTimeout(0)
	return 0
}

// fillAttr: read-only, the text's size, the time of the last error (the mount's start before any).
func (n *lastErrorNode) fillAttr(out *fuse.Attr) {
	out.Mode = fuse.S_IFREG | 0o444
	out.Nlink = 1
	n.dir.mu.Lock()
	at := n.dir.lastErrAt
	n.dir.mu.Unlock()
	out.SetTimes(&at, &at, &at)
	out.Size = uint64(len(n.text()))
}

func (n *lastErrorNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR) != 0 {
		return nil, 0, syscall.EACCES
	}
	return &handle{content: n.text()}, fuse.FOPEN_DIRECT_IO, 0
}

func (n *lastErrorNode) Read(ctx context.Context, f gofs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return f.(*handle).Read(ctx, dest, off)
}
