package object

import (
	"fmt"
	"strings"
)

// Sharing is an object's permissions (X-Object-Sharing): lists of user uuids, "<owner-uuid>:<group>"
// account groups, or "*" for everyone.
type Sharing struct {
	Read  []string
	Write []string
}

// IsZero reports whether no permission is set.
func (s Sharing) IsZero() bool { return len(s.Read) == 0 && len(s.Write) == 0 }

// String renders the request form: "read=a,b;write=c", "" when nothing is shared (which clears).
func (s Sharing) String() string {
	var parts []string
	if len(s.Read) > 0 {
		parts = append(parts, "read="+strings.Join(s.Read, ","))
	}
	if len(s.Write) > 0 {
		parts = append(parts, "write="+strings.Join(s.Write, ","))
	}
	return strings.Join(parts, ";")
}

// ParseSharing parses an X-Object-Sharing value ("read=a,b; write=c", either order, "" for none).
func ParseSharing(v string) (Sharing, error) {
	var s Sharing
	v = strings.TrimSpace(v)
	if v == "" {
		return s, nil
	}
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, list, ok := strings.Cut(part, "=")
		if !ok {
			return Sharing{}, fmt.Errorf("object: bad sharing entry %q", part)
		}
		var members []string
		for _, m := range strings.Split(list, ",") {
			if m = strings.TrimSpace(m); m != "" {
				members = append(members, m)
			}
		}
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "read":
			s.Read = append(s.Read, members...)
		case "write":
			s.Write = append(s.Write, members...)
		default:
			return Sharing{}, fmt.Errorf("object: bad sharing key %q", key)
		}
	}
	return s, nil
}
