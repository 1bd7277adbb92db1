package control_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pithosfs/pithosfs/pithos"
)

// TestControlDocumentBounded: a document longer than a control file takes
// (1 MiB), or a write far past its end, fails with EFBIG and a reason in
// .last-error, and the mount stays up: the handle used to grow its buffer
// to whatever was written, and a write at a 1 TiB offset asked the runtime
// for 1 TiB at once (the mount died: "fatal error: runtime: out of memory").
func TestControlDocumentBounded(t *testing.T) {
	e := setup(t)
	mnt := mount(t, e.srv, false)
	for _, c := range []struct{ what, script string }{
		{"2 MiB of JSON", `(printf '{"name": "'; head -c 2097152 /dev/zero | tr '\0' a) | tee servers/big.json`},
		{"a write at 1 TiB", "printf x | dd of=servers/hole.json bs=1 seek=1099511627776 conv=notrunc status=none"},
	} {
		out, err := sh(mnt, c.script+" > /dev/null")
		if err == nil || !strings.Contains(err.Error(), "File too large") {
			t.Errorf("%s: %q, %v; want EFBIG", c.what, out, err)
		}
		if le, err := sh(mnt, "cat servers/.last-error"); err != nil || !strings.Contains(le, "at most 1048576 bytes") {
			t.Errorf("%s: servers/.last-error = %q, %v", c.what, le, err)
		}
	}
	if out, err := sh(mnt, "ls servers; cat flavors/"+e.flavor.Name+".json"); err != nil || !strings.Contains(out, `"ram"`) {
		t.Fatalf("the mount after the oversized writes: %q, %v", out, err)
	}
}

// TestControlNameNotUTF8: a new control file whose name is not UTF-8 is
// EILSEQ, and nothing is made: a file copied into images/ under such a name
// was uploaded to the images container, then its registration refused,
// leaving an object no listing shows by its name.
func TestControlNameNotUTF8(t *testing.T) {
	e := setup(t)
	mnt := mount(t, e.srv, false)
	for _, dir := range []string{"images", "servers"} {
		out, err := sh(mnt, `n=$(printf 'new\377'); printf 'x' > "`+dir+`/$n"`)
		if err == nil || !strings.Contains(err.Error(), "Invalid or incomplete multibyte") {
			t.Errorf("%s: %q, %v; want EILSEQ", dir, out, err)
		}
		if le := mustSh(t, mnt, "cat "+dir+"/.last-error"); !strings.Contains(le, "must be UTF-8") {
			t.Errorf("%s/.last-error = %q", dir, le)
		}
	}
	if objs, err := e.pithos.ListObjects(context.Background(), "images", pithos.ListOptions{}); err == nil && len(objs.Objects) > 0 {
		t.Errorf("objects left in images/: %+v", objs.Objects)
	}
}
