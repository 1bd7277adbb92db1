package writeback

import "strings"

// FilesUnder returns the registered Files directly in the directory whose
// objects are named under+NAME ("" = the container's root; else the
// directory's path and "/", which also reaches directories named with an
// empty segment, as "/" for the names with a leading "/"), by NAME.
func (m *Manager) FilesUnder(container, under string) map[string]*File {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]*File{}
	for k, f := range m.files {
		if k.container != container || !strings.HasPrefix(k.name, under) {
			continue
		}
		if rest := k.name[len(under):]; rest != "" && !strings.Contains(rest, "/") {
			out[rest] = f
		}
	}
	return out
}
