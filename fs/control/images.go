package control

import (
	"context"
	"io"
	"strings"

	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/image"
)

// images is images/: one file per image the user can see (own ones writable).
type images struct{ cfg *Config }

// imageSpec is what a user writes to images/NAME.json.
type imageSpec struct {
	Name            string            `json:"name"`
	Location        string            `json:"location"`
	Properties      map[string]string `json:"properties"`
	IsPublic        *bool             `json:"is_public"`
	ContainerFormat string            `json:"container_format"`
	DiskFormat      string            `json:"disk_format"`
}

// imagesContainer is where files copied into images/ are uploaded.
const imagesContainer = "images"

func (im *images) list(ctx context.Context) ([]entry, error) {
	all, err := im.cfg.Images.ListImages(ctx, image.ListOptions{Detail: true})
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, len(all))
	for _, i := range all {
		out = append(out, entry{name: i.Name, id: i.ID, mine: i.Owner == "" || i.Owner == im.cfg.Account})
	}
	return out, nil
}

// imageDoc is the rendered form of an image file.
type imageDoc struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Location        string            `json:"location"`
	Owner           string            `json:"owner"`
	Status          string            `json:"status"`
	Size            int64             `json:"size"`
	Checksum        string            `json:"checksum"`
	DiskFormat      string            `json:"disk_format"`
	ContainerFormat string            `json:"container_format"`
	IsPublic        bool              `json:"is_public"`
	IsSnapshot      bool              `json:"is_snapshot"`
	CreatedAt       string            `json:"created_at"`
	UpdatedAt       string            `json:"updated_at"`
	Properties      map[string]string `json:"properties"`
}

func (im *images) render(ctx context.Context, id string) ([]byte, error) {
	m, err := im.cfg.Images.GetMeta(ctx, id)
	if err != nil {
		return nil, err
	}
	loc := m.Location
	if l, err := m.LocationOf(); err == nil {
		loc = image.LocationPrefix + l.Account + "/" + l.Container + "/" + l.Path
	}
	return pretty(imageDoc{ID: m.ID, Name: m.Name, Location: loc, Owner: m.Owner, Status: m.Status, Size: m.Size,
		Checksum: m.Checksum, DiskFormat: m.DiskFormat, ContainerFormat: m.ContainerFormat, IsPublic: m.IsPublic,
		IsSnapshot: m.IsSnapshot, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, Properties: m.Properties}), nil
}

// location resolves a spec's location: pithos://, /CONTAINER/PATH of the
// user's own account, or a path inside the mount.
func (im *images) location(s string) (image.Location, error) {
	if im.cfg.ResolvePath != nil {
		if l, ok := im.cfg.ResolvePath(s); ok {
			return l, nil
		}
	}
	l, err := image.ParseLocation(s, im.cfg.Account)
	if err != nil {
		return image.Location{}, invalid("%v", err)
	}
	return l, nil
}

func (im *images) check(ctx context.Context, name, id string, data []byte) error {
	var spec imageSpec
	complete, err := decodeStrict(data, &spec)
	if err != nil || !complete {
		return err
	}
	if id != "" {
		if spec.Location != "" {
			return invalid("an image's location cannot change; register a new image instead")
		}
		return nil
	}
	if spec.Location == "" {
		return invalid("a new image needs a \"location\"")
	}
	_, err = im.location(spec.Location)
	return err
}

func (im *images) create(ctx context.Context, name string, data []byte) (string, string, error) {
	var spec imageSpec
	if _, err := decodeStrict(data, &spec); err != nil {
		return "", "", err
	}
	if spec.Location == "" {
		return "", "", invalid("a new image needs a \"location\"")
	}
	loc, err := im.location(spec.Location)
	if err != nil {
		return "", "", err
	}
	if spec.Name == "" {
		spec.Name = strings.TrimSuffix(name, ".json")
	}
	opts := image.RegisterOptions{DiskFormat: spec.DiskFormat, ContainerFormat: spec.ContainerFormat, Properties: spec.Properties}
	if spec.IsPublic != nil {
		opts.IsPublic = *spec.IsPublic
	}
	m, err := im.cfg.Images.Register(ctx, spec.Name, loc, opts)
	if err != nil {
		return "", "", err
	}
	return m.ID, "", nil
}

func (im *images) update(ctx context.Context, id string, data []byte) error {
	var spec imageSpec
	if _, err := decodeStrict(data, &spec); err != nil {
		return err
	}
	u := image.UpdateRequest{Properties: spec.Properties, IsPublic: spec.IsPublic}
	if spec.Name != "" {
		u.Name = &spec.Name
	}
	if spec.DiskFormat != "" {
		u.DiskFormat = &spec.DiskFormat
	}
	if spec.ContainerFormat != "" {
		u.ContainerFormat = &spec.ContainerFormat
	}
	_, err := im.cfg.Images.UpdateImage(ctx, id, u)
	return err
}

func (im *images) remove(ctx context.Context, id string) error {
	return im.cfg.Images.Unregister(ctx, id)
}

func (im *images) uploads() bool { return im.cfg.Pithos != nil }

// uploadAndRegister uploads a copied-in file to the images container (only
// the blocks the server lacks) and registers it under its file name.
func (im *images) uploadAndRegister(ctx context.Context, name string, r io.ReaderAt, size int64) (string, error) {
	if _, err := im.cfg.Pithos.CreateContainer(ctx, imagesContainer, pithos.CreateContainerOptions{}); err != nil {
		return "", err
	}
	if _, err := im.cfg.Pithos.UploadObject(ctx, imagesContainer, name, io.NewSectionReader(r, 0, size), pithos.UploadOptions{Size: size}); err != nil {
		return "", err
	}
	m, err := im.cfg.Images.Register(ctx, name, image.Location{Account: im.cfg.Account, Container: imagesContainer, Path: name},
		image.RegisterOptions{DiskFormat: "diskdump", ContainerFormat: "bare"})
	if err != nil {
		return "", err
	}
	return m.ID, nil
}
