package history

import (
	"fmt"
	"strings"

	inopkg "github.com/pithosfs/pithosfs/internal/ino"
	"github.com/pithosfs/pithosfs/pithos"
)

// versionTime is how a version's time appears in its name: UTC, to the
// microsecond (Pithos+ version timestamps and Swift archive names have
// that precision), so names sort by time.
const versionTime = "2006-01-02T15:04:05.000000Z"

// versionNames names each version: its time, and on Pithos+ ".v" and the
// version id ("2026-12-01T15:04:05.123456Z.v17"); two Swift versions of the
// same microsecond get ".2", ".3".
func versionNames(vs []pithos.ObjectVersion) []string {
	out := make([]string, len(vs))
	seen := map[string]int{}
	for i, v := range vs {
		n := v.Time.UTC().Format(versionTime)
		if v.ID > 0 {
			n += fmt.Sprintf(".v%d", v.ID)
		}
		if k := seen[n]; k > 0 {
			seen[n] = k + 1
			n += fmt.Sprintf(".%d", k+1)
		} else {
			seen[n] = 1
		}
		out[i] = n
	}
	return out
}

// validName reports whether a listing's name segment can be a file name.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && len(s) <= 255 && !strings.Contains(s, "/")
}

// ino is a stable inode number for a node of these views: tagged with
// "history" apart from the mount's objects (whose parts are an account and
// a uuid), in the lower half like them.
func ino(parts ...string) uint64 { return inopkg.Of(append([]string{"history"}, parts...)...) }
