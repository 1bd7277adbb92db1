// Package kamakirc reads kamaki's configuration file (~/.kamakirc, or $KAMAKI_CONFIG): the clouds
// ([cloud "NAME"] sections with url and token), [global] default_cloud, and the TLS settings ca_certs
// and ignore_ssl, looked up as kamaki's documentation describes them (a cloud's own section first, then
// [global]). It only reads; kamaki itself writes the file.
package kamakirc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvConfig names another configuration file, as for kamaki.
const EnvConfig = "KAMAKI_CONFIG"

// maxLine bounds one line of the file (a token is well under it).
const maxLine = 64 << 10

// File is a parsed configuration file.
type File struct {
	Path   string
	Global map[string]string            // the [global] section
	Clouds map[string]map[string]string // [cloud "NAME"] sections by NAME
}

// DefaultPath is $KAMAKI_CONFIG, else ~/.kamakirc ("" when neither can be known).
func DefaultPath(getenv func(string) string) string {
	if p := getenv(EnvConfig); p != "" {
		return p
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".kamakirc")
	}
	return ""
}

// Read parses the file at path: INI sections, "key = value" (or "key: value") lines, '#' and ';'
// comments. A missing file is an error satisfying errors.Is(err, os.ErrNotExist).
func Read(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	f := &File{Path: path, Global: map[string]string{}, Clouds: map[string]map[string]string{}}
	var section map[string]string // nil: a section this package ignores
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 4096), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = f.section(strings.TrimSpace(line[1 : len(line)-1]))
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			return nil, fmt.Errorf("%s:%d: not a section or key = value: %q", path, n, line)
		}
		if section != nil {
			section[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// section returns the map a section header names, created on first use; nil for other sections.
func (f *File) section(header string) map[string]string {
	if header == "global" {
		return f.Global
	}
	rest, ok := strings.CutPrefix(header, "cloud ")
	if !ok {
		return nil
	}
	name := strings.Trim(strings.TrimSpace(rest), `"`)
	if f.Clouds[name] == nil {
		f.Clouds[name] = map[string]string{}
	}
	return f.Clouds[name]
}

// DefaultCloud is the cloud to use when none is named: [global] default_cloud, else the only cloud
// there is, else "".
func (f *File) DefaultCloud() string {
	if d := f.Global["default_cloud"]; d != "" {
		return d
	}
	if len(f.Clouds) == 1 {
		for name := range f.Clouds {
			return name
		}
	}
	return ""
}

// Cloud returns the url and token of a cloud.
func (f *File) Cloud(name string) (url, token string, err error) {
	c, ok := f.Clouds[name]
	if !ok {
		return "", "", fmt.Errorf("%s: no cloud %q", f.Path, name)
	}
	if c["url"] == "" || c["token"] == "" {
		return "", "", fmt.Errorf("%s: cloud %q needs url and token", f.Path, name)
	}
	return c["url"], c["token"], nil
}

// Setting looks key up in cloud's section (when cloud is not ""), then in [global]; where names the
// section it came from ("[global]", `[cloud "NAME"]`). One pair of surrounding quotes is dropped.
func (f *File) Setting(cloud, key string) (value, where string, ok bool) {
	if c := f.Clouds[cloud]; cloud != "" && c != nil {
		if v, ok := c[key]; ok {
			return unquote(v), fmt.Sprintf("[cloud %q]", cloud), true
		}
	}
	if v, ok := f.Global[key]; ok {
		return unquote(v), "[global]", true
	}
	return "", "", false
}

// TLS is how a file says to verify a cloud's certificates.
type TLS struct {
	CACerts      string // ca_certs ("" when unset); a leading ~/ is the home directory
	CACertsFrom  string // the section it came from
	IgnoreSSL    bool   // ignore_ssl = on
	IgnoreSSLSet bool   // ignore_ssl is set (on or off)
	IgnoreFrom   string
}

// TLS returns the ca_certs and ignore_ssl settings that apply to cloud ("" for [global] only), each
// from the cloud's section or else [global]. home expands a leading ~/ of ca_certs ("" leaves it).
func (f *File) TLS(cloud, home string) (TLS, error) {
	var t TLS
	if v, where, ok := f.Setting(cloud, "ca_certs"); ok && v != "" {
		if rest, ok := strings.CutPrefix(v, "~/"); ok && home != "" {
			v = filepath.Join(home, rest)
		}
		t.CACerts, t.CACertsFrom = v, where
	}
	if v, where, ok := f.Setting(cloud, "ignore_ssl"); ok {
		on, err := ParseOnOff(v)
		if err != nil {
			return t, fmt.Errorf("%s %s: ignore_ssl: %w", f.Path, where, err)
		}
		t.IgnoreSSL, t.IgnoreSSLSet, t.IgnoreFrom = on, true, where
	}
	return t, nil
}

// ErrNotOnOff is a boolean setting that is neither on nor off.
var ErrNotOnOff = errors.New("neither on nor off")

// ParseOnOff reads kamaki's booleans: on/off (also yes/no, true/false, 1/0; empty is off).
func ParseOnOff(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "yes", "true", "1":
		return true, nil
	case "off", "no", "false", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("%q: %w", v, ErrNotOnOff)
}

// unquote drops one pair of surrounding quotes, which kamaki would keep as part of the value (a
// common mistake: ca_certs = "/etc/ssl/…").
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
