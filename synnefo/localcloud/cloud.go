package localcloud

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pithosfs/pithosfs/internal/diskfile"
	"go.uber.org/zap"
)

// User is one account of the local cloud. UUID is the Pithos account name;
// Token is what clients send as X-Auth-Token; Quota is the account's storage
// quota in bytes (0 means the Pithos default of 50 GiB).
type User struct {
	Name  string `json:"name"`
	UUID  string `json:"uuid"`
	Token string `json:"token"`
	Quota int64  `json:"quota,omitempty"`
	// ProjectAdmin makes the user an Astakos project administrator: with
	// one or more, project applications wait for their approval.
	ProjectAdmin bool `json:"project_admin,omitempty"`
}

// DefaultQuota is Pithos' internal default account quota (50 GiB).
const DefaultQuota = 50 << 30

// Config configures a Cloud.
type Config struct {
	// Dir holds all state: the database and the block files. Required.
	Dir string
	// Users are the accounts. Empty means the users saved in Dir/users.json,
	// or on first start one user demo@localhost with a new random token.
	Users []User
	// BlockSize is the Pithos block size in bytes (default 4 MiB).
	BlockSize int64
	// PublicURL is the base URL put in the service catalog and public object
	// URLs. Empty means "http://" + the Host header of each request.
	PublicURL string
	// BuildDelay is how long a new server stays in BUILD (default 2s).
	BuildDelay time.Duration
	// Logger receives request errors; nil logs nothing.
	Logger *zap.Logger
	// MaxSourceBytes bounds the data one POST with X-Source-Object copies
	// (0 = DefaultMaxSourceBytes); larger sources get 400.
	MaxSourceBytes int64
	// Now is the cloud's clock: object modification times and "until", and
	// when a server's or volume's task (BUILD, STOP, attach…) is done; nil is
	// time.Now. Tests inject one to step time without sleeping.
	Now func() time.Time
	// ComponentToken authenticates the one component (service) that may use
	// the account API's commissions (/account/v1.0/commissions); empty
	// refuses every token there.
	ComponentToken string
}

// Cloud is the local Synnefo cloud: an http.Handler serving every service.
type Cloud struct {
	cfg   Config
	log   *zap.Logger
	users []User
	byTok map[string]*User
	byID  map[string]*User
	store *store
	mux   *http.ServeMux
	// blockBufs recycles the block-size buffers uploads are cut into.
	blockBufs sync.Pool

	// testGCHook, set by tests only, is called at each stage of a GC run.
	testGCHook func(stage string)

	// objLocks serialize data POSTs to one object (lockObject).
	objLocks [64]sync.Mutex

	closeOnce sync.Once
	closed    chan struct{}
}

// Open opens (creating if needed) the cloud whose state lives in cfg.Dir.
func Open(cfg Config) (*Cloud, error) {
	if cfg.Dir == "" {
		return nil, errors.New("localcloud: Config.Dir is required")
	}
	if cfg.BlockSize <= 0 {
		cfg.BlockSize = 4 << 20
	}
	if cfg.BuildDelay <= 0 {
		cfg.BuildDelay = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("localcloud: %w", err)
	}
	users := cfg.Users
	if len(users) == 0 {
		var err error
		if users, err = loadOrCreateUsers(filepath.Join(cfg.Dir, "users.json")); err != nil {
			return nil, err
		}
	}
	c := &Cloud{cfg: cfg, log: cfg.Logger, users: users, byTok: map[string]*User{}, byID: map[string]*User{}, closed: make(chan struct{})}
	for i := range c.users {
		u := &c.users[i]
		if u.UUID == "" || u.Token == "" {
			return nil, fmt.Errorf("localcloud: user %q needs a uuid and a token", u.Name)
		}
		if u.Quota == 0 {
			u.Quota = DefaultQuota
		}
		c.byTok[u.Token] = u
		c.byID[u.UUID] = u
	}
	st, err := openStore(cfg.Dir, cfg.BlockSize)
	if err != nil {
		return nil, err
	}
	if cfg.Now != nil {
		st.now = func() int64 { return cfg.Now().UnixNano() }
	}
	c.store = st
	st.cloud = c
	if err := st.update(initCyclades); err != nil {
		st.close()
		return nil, fmt.Errorf("localcloud: init cyclades database: %w", err)
	}
	c.mux = http.NewServeMux()
	c.routes()
	return c, nil
}

// Users returns the cloud's accounts.
func (c *Cloud) Users() []User { return append([]User(nil), c.users...) }

// BlockSize is the object store's block size.
func (c *Cloud) BlockSize() int64 { return c.cfg.BlockSize }

// Close releases the database. In-flight requests must have finished.
func (c *Cloud) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		err = c.store.close()
	})
	return err
}

func (c *Cloud) routes() {
	c.mux.HandleFunc("/astakos/identity/v2.0/", c.serveIdentity)
	c.mux.HandleFunc("/astakos/identity/v2.0", c.serveIdentity)
	c.mux.HandleFunc("/astakos/account/v1.0/", c.serveAccountAPI)
	c.mux.HandleFunc("/pithos/object-store/", c.servePithos)
	c.mux.HandleFunc("/pithos/public/", c.servePublic)
	c.mux.HandleFunc("/pithos/_astakos/", c.serveAstakosProxy)
	c.mux.HandleFunc("/cyclades/", c.serveCyclades)
}

// ServeHTTP implements http.Handler.
func (c *Cloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Object names are kept verbatim (§1): http.ServeMux would redirect a
	// path with "//", "." or ".." elements to a cleaned one, so the object
	// store and public URLs are dispatched before it.
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/pithos/object-store/"):
		c.servePithos(w, r)
	case strings.HasPrefix(p, "/pithos/public/"):
		c.servePublic(w, r)
	default:
		c.mux.ServeHTTP(w, r)
	}
}

// baseURL is the scheme://host the catalog and public URLs are built on.
func (c *Cloud) baseURL(r *http.Request) string {
	if c.cfg.PublicURL != "" {
		return strings.TrimRight(c.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// userByToken resolves the token of a request: the X-Auth-Token query
// parameter first, then the header. ok is false when none was sent.
func (c *Cloud) userByToken(r *http.Request) (u *User, sent bool) {
	tok := r.URL.Query().Get("X-Auth-Token")
	if tok == "" {
		tok = r.Header.Get("X-Auth-Token")
	}
	if tok == "" {
		return nil, false
	}
	return c.byTok[tok], true
}

func loadOrCreateUsers(path string) ([]User, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		var users []User
		if err := json.Unmarshal(data, &users); err != nil {
			return nil, fmt.Errorf("localcloud: %s: %w", path, err)
		}
		return users, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("localcloud: %w", err)
	}
	users := []User{{Name: "demo@localhost", UUID: newUUID(), Token: newToken(), Quota: DefaultQuota}}
	data, _ = json.MarshalIndent(users, "", "  ")
	if err := diskfile.WriteAtomic(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("localcloud: %w", err)
	}
	return users, nil
}

// LoadUsers reads a users file: a JSON list of {name, uuid, token, quota}.
func LoadUsers(path string) ([]User, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("localcloud: %w", err)
	}
	var users []User
	if err := json.Unmarshal(data, &users); err != nil {
		return nil, fmt.Errorf("localcloud: %s: %w", path, err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("localcloud: %s lists no users", path)
	}
	return users, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return b
}

func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func newToken() string { return base64.RawURLEncoding.EncodeToString(randomBytes(24)) }

const alnum = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

func newPublicID() string {
	b := randomBytes(16)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Server is a Cloud listening on a loopback port, like httptest.Server.
type Server struct {
	URL   string
	Cloud *Cloud
	srv   *http.Server
	ln    net.Listener
}

// Start opens a cloud and serves it on a new 127.0.0.1 port.
func Start(cfg Config) (*Server, error) {
	return Listen("127.0.0.1:0", cfg)
}

// Listen opens a cloud and serves it on addr.
func Listen(addr string, cfg Config) (*Server, error) {
	return listen(addr, cfg, nil)
}

// listen opens a cloud and serves it on addr: over TLS with conf (a
// server certificate; ListenTLS), else plain HTTP.
func listen(addr string, cfg Config, conf *tls.Config) (*Server, error) {
	c, err := Open(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("localcloud: %w", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), Cloud: c, ln: ln,
		srv: &http.Server{Handler: c, ReadHeaderTimeout: 30 * time.Second, ErrorLog: zap.NewStdLog(c.log), TLSConfig: conf}}
	if conf == nil {
		go s.srv.Serve(ln)
		return s, nil
	}
	s.URL = "https://" + ln.Addr().String()
	go s.srv.Serve(tls.NewListener(ln, conf))
	return s, nil
}

// IdentityURL is the Astakos identity endpoint clients authenticate against.
func (s *Server) IdentityURL() string { return s.URL + "/astakos/identity/v2.0" }

// ObjectStoreURL is the Pithos storage URL (without the account).
func (s *Server) ObjectStoreURL() string { return s.URL + "/pithos/object-store/v1" }

// Close stops serving at once (closing open connections), waits briefly for
// handlers to finish and closes the cloud.
func (s *Server) Close() error {
	s.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.srv.Shutdown(ctx)
	return s.Cloud.Close()
}

// Shutdown stops accepting requests, waits for in-flight ones (until ctx
// ends) and closes the cloud.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if cerr := s.Cloud.Close(); err == nil {
		err = cerr
	}
	return err
}
