package localcloud

import (
	"hash/fnv"
	"net/http"
	"strings"
)

// isPublic reports whether an object is published: Synnefo's
// _can_read_object lets every user read a public object through the
// authenticated API too.
func (t *txn) isPublic(acct, cont, name string) bool {
	rec, ok := t.object(acct, cont, name)
	return ok && rec.Public != ""
}

// lockObject takes the lock of an object's path (one of a fixed set of
// stripes) and returns its unlock.
func (c *Cloud) lockObject(acct, cont, name string) func() {
	h := fnv.New32a()
	h.Write([]byte(acct + "\x00" + cont + "\x00" + name))
	m := &c.objLocks[h.Sum32()%uint32(len(c.objLocks))]
	m.Lock()
	return m.Unlock
}

// serveAstakosProxy serves Astakos under the Pithos base URL, as Pithos
// proxies it: {PITHOS}/_astakos/identity/… and {PITHOS}/_astakos/account/….
func (c *Cloud) serveAstakosProxy(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/pithos/_astakos")
	if !strings.HasPrefix(rest, "/identity/") && rest != "/identity" && !strings.HasPrefix(rest, "/account/") {
		writeFault(w, r, notFound("Not found"))
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/astakos" + rest
	r2.URL.RawPath = ""
	c.mux.ServeHTTP(w, r2)
}
