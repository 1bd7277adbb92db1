package control

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"syscall"
)

const eperm = syscall.EPERM

// readOnly is embedded by the read-only directories.
type readOnly struct{}

func (readOnly) check(context.Context, string, string, []byte) error {
	return &userError{errno: syscall.EACCES, msg: "this directory is read-only"}
}
func (readOnly) create(context.Context, string, []byte) (string, string, error) {
	return "", "", &userError{errno: syscall.EACCES, msg: "this directory is read-only"}
}
func (readOnly) update(context.Context, string, []byte) error {
	return &userError{errno: syscall.EACCES, msg: "this directory is read-only"}
}
func (readOnly) remove(context.Context, string) error {
	return &userError{errno: eperm, msg: "this directory is read-only"}
}
func (readOnly) uploads() bool { return false }
func (readOnly) uploadAndRegister(context.Context, string, io.ReaderAt, int64) (string, error) {
	return "", fmt.Errorf("read-only")
}

// flavors is flavors/: one read-only file per flavor.
type flavors struct {
	readOnly
	cfg *Config
}

func (f *flavors) list(ctx context.Context) ([]entry, error) {
	all, err := f.cfg.Compute.ListFlavors(ctx, true)
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, len(all))
	for _, fl := range all {
		out = append(out, entry{name: fl.Name, id: strconv.FormatInt(fl.ID, 10)})
	}
	return out, nil
}

func (f *flavors) render(ctx context.Context, id string) ([]byte, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, invalid("bad flavor id %q", id)
	}
	fl, err := f.cfg.Compute.GetFlavor(ctx, n)
	if err != nil {
		return nil, err
	}
	return pretty(fl), nil
}

// networks is networks/: one read-only file per network.
type networks struct {
	readOnly
	cfg *Config
}

func (n *networks) list(ctx context.Context) ([]entry, error) {
	all, err := n.cfg.Network.ListNetworks(ctx, true)
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, len(all))
	for _, nw := range all {
		name := nw.Name
		if name == "" {
			name = nw.ID
		}
		out = append(out, entry{name: name, id: nw.ID})
	}
	return out, nil
}

func (n *networks) render(ctx context.Context, id string) ([]byte, error) {
	nw, err := n.cfg.Network.GetNetwork(ctx, id)
	if err != nil {
		return nil, err
	}
	return pretty(nw), nil
}
