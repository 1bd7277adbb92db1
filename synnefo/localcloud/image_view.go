package localcloud

import "strings"

// The image service's (Plankton's) replies, typed, and the compute API's
// image envelopes. Fields are declared in the order of their JSON keys, the
// order the maps they replace were written in, so the bytes are unchanged.

// imageDetail is an /images/detail entry (§5.3).
type imageDetail struct {
	Checksum        string            `json:"checksum"`
	ContainerFormat string            `json:"container_format"`
	CreatedAt       string            `json:"created_at"`
	DeletedAt       string            `json:"deleted_at"`
	Description     string            `json:"description,omitempty"`
	DiskFormat      string            `json:"disk_format"`
	ID              string            `json:"id"`
	IsPublic        bool              `json:"is_public"`
	IsSnapshot      bool              `json:"is_snapshot"`
	Location        string            `json:"location"`
	Name            string            `json:"name"`
	Owner           string            `json:"owner"`
	Properties      map[string]string `json:"properties"`
	Size            int64             `json:"size"`
	Status          string            `json:"status"`
	UpdatedAt       string            `json:"updated_at"`
}

// imageSummary is an /images entry.
type imageSummary struct {
	ContainerFormat string `json:"container_format"`
	DiskFormat      string `json:"disk_format"`
	ID              string `json:"id"`
	Name            string `json:"name"`
	Size            int64  `json:"size"`
	Status          string `json:"status"`
}

func (d *imageDetail) summary() imageSummary {
	return imageSummary{ContainerFormat: d.ContainerFormat, DiskFormat: d.DiskFormat, ID: d.ID,
		Name: d.Name, Size: d.Size, Status: d.Status}
}

// compare orders two images by one of imageSortKeys (size as a number,
// the others as strings).
func (d *imageDetail) compare(e *imageDetail, key string) int {
	if key == "size" {
		return cmpInt(d.Size, e.Size)
	}
	return strings.Compare(d.sortString(key), e.sortString(key))
}

func (d *imageDetail) sortString(key string) string {
	switch key {
	case "id":
		return d.ID
	case "name":
		return d.Name
	case "status":
		return d.Status
	case "disk_format":
		return d.DiskFormat
	case "container_format":
		return d.ContainerFormat
	case "created_at":
		return d.CreatedAt
	case "updated_at":
		return d.UpdatedAt
	}
	return ""
}

// imagesReply is a list of images: Plankton's summaries or details, or the
// compute API's.
type imagesReply[T any] struct {
	Images []T `json:"images"`
}

// imageMember is one account an image is shared with.
type imageMember struct {
	CanShare bool   `json:"can_share"`
	MemberID string `json:"member_id"`
}

type imageMembersReply struct {
	Members []imageMember `json:"members"`
}

// sharedImage is one image an account shares.
type sharedImage struct {
	CanShare bool   `json:"can_share"`
	ImageID  string `json:"image_id"`
}

type sharedImagesReply struct {
	SharedImages []sharedImage `json:"shared_images"`
}
