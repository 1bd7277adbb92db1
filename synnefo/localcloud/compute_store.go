package localcloud

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// flavor is one entry of the fixed flavor set (cyclades-api.md §4).
type flavor struct {
	ID       int64
	VCPUs    int
	RAM      int // MiB
	Disk     int // GiB
	VolType  int64
	Template string
}

func (f flavor) name() string { return fmt.Sprintf("C%dR%dD%d%s", f.VCPUs, f.RAM, f.Disk, f.Template) }

// volumeType is a block storage volume type (§8.1 /types).
type volumeType struct {
	ID         int64
	Template   string
	Detachable bool
}

var volumeTypes = []volumeType{
	{1, "drbd", false},
	{2, "ext_archipelago", true},
}

// flavors is a realistic default set; only ext_* flavors can be snapshotted.
var flavors = []flavor{
	{1, 1, 512, 5, 2, "ext_archipelago"},
	{2, 1, 1024, 10, 2, "ext_archipelago"},
	{3, 2, 2048, 20, 2, "ext_archipelago"},
	{4, 2, 4096, 40, 2, "ext_archipelago"},
	{5, 4, 8192, 80, 2, "ext_archipelago"},
	{6, 8, 16384, 160, 2, "ext_archipelago"},
	{7, 1, 1024, 10, 1, "drbd"},
	{8, 2, 2048, 20, 1, "drbd"},
	// Same disk and volume type as 2, 3 and 7: a server can be resized
	// between them (Synnefo only changes CPUs and RAM).
	{9, 2, 1024, 10, 2, "ext_archipelago"},
	{10, 4, 4096, 20, 2, "ext_archipelago"},
	{11, 2, 2048, 10, 1, "drbd"},
}

func flavorByID(id int64) (flavor, bool) {
	for _, f := range flavors {
		if f.ID == id {
			return f, true
		}
	}
	return flavor{}, false
}

func volumeTypeByID(id int64) (volumeType, bool) {
	for _, v := range volumeTypes {
		if v.ID == id {
			return v, true
		}
	}
	return volumeType{}, false
}

// serverRec is a stored server. Status is derived (§3.6): Oper is Ganeti's
// operstate, Task the pending job, due at TaskUntil.
type serverRec struct {
	ID          int64             `json:"id"`
	Name        string            `json:"name"`
	Owner       string            `json:"owner"`
	Project     string            `json:"project"`
	Shared      bool              `json:"shared,omitempty"`
	Flavor      int64             `json:"flavor"`
	Image       string            `json:"image"`
	Meta        map[string]string `json:"meta,omitempty"`
	KeyNames    []string          `json:"key_names,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	TagsPending map[string]int64  `json:"tags_pending,omitempty"` // tag -> end of its PENDADD job
	Personality []json.RawMessage `json:"personality,omitempty"`
	Created     int64             `json:"created"`
	Updated     int64             `json:"updated"`
	Oper        string            `json:"oper"` // BUILD STARTED STOPPED ERROR DESTROYED
	Task        string            `json:"task,omitempty"`
	TaskStart   int64             `json:"task_start,omitempty"`
	TaskUntil   int64             `json:"task_until,omitempty"`
	ResizeTo    int64             `json:"resize_to,omitempty"`
	Deleted     bool              `json:"deleted,omitempty"`
	Ports       []int64           `json:"ports,omitempty"`
	Volumes     []int64           `json:"volumes,omitempty"`
	AdminPass   string            `json:"admin_pass,omitempty"`
	PassUntil   int64             `json:"pass_until,omitempty"`
	Diagnostics []diagnostic      `json:"diagnostics,omitempty"`
}

func (s *serverRec) status() string {
	switch {
	case s.Deleted:
		return "DELETED"
	case s.Oper == "STARTED" && s.Task == "REBOOT":
		return "REBOOT"
	case s.Oper == "STOPPED" && s.Task == "RESIZE":
		return "RESIZE"
	}
	switch s.Oper {
	case "BUILD":
		return "BUILD"
	case "ERROR":
		return "ERROR"
	case "STOPPED":
		return "STOPPED"
	case "STARTED":
		return "ACTIVE"
	case "DESTROYED":
		return "DELETED"
	}
	return "UNKNOWN"
}

var taskStates = map[string]string{
	"BUILD": "BUILDING", "START": "STARTING", "STOP": "STOPPING", "REBOOT": "REBOOTING",
	"DESTROY": "DESTROYING", "RESIZE": "RESIZING",
	"ATTACH_VOLUME": "ATTACHING_VOLUME", "DETACH_VOLUME": "DETACHING_VOLUME",
}

// progress rises with time during BUILD and is 100 afterwards.
func (s *serverRec) progress(now int64) int {
	if s.Oper != "BUILD" {
		return 100
	}
	if s.TaskUntil <= s.TaskStart {
		return 0
	}
	p := int(100 * (now - s.TaskStart) / (s.TaskUntil - s.TaskStart))
	return min(max(p, 0), 99)
}

// settleServer completes the pending job of a server that was due at at.
func (t *txn) settleServer(sid string, at int64) error {
	id, _ := strconv.ParseInt(sid, 10, 64)
	s, ok := getRec[serverRec](t, bServers, id)
	if !ok || s.Task == "" || s.TaskUntil != at {
		return nil // superseded
	}
	task := s.Task
	s.Task, s.TaskStart, s.TaskUntil, s.Updated = "", 0, 0, at
	switch task {
	case "BUILD":
		s.Oper = "STARTED"
		portStatus, volStatus := "ACTIVE", "in_use"
		if reason := t.buildFailure(s); reason != "" {
			s.Oper = "ERROR"
			portStatus, volStatus = "ERROR", "error"
			s.Diagnostics = append(s.Diagnostics, diagnostic{
				Level: "ERROR", Created: isoDate(at), Source: "image-helper", Message: reason,
			})
		}
		if err := t.setPortsStatus(s.Ports, portStatus, at); err != nil {
			return err
		}
		if err := t.setVolumesStatus(s.Volumes, volStatus, at); err != nil {
			return err
		}
	case "START", "REBOOT":
		s.Oper = "STARTED"
	case "STOP":
		s.Oper = "STOPPED"
	case "RESIZE":
		s.Oper = "STOPPED"
		s.Flavor, s.ResizeTo = s.ResizeTo, 0
	case "DESTROY":
		s.Oper, s.Deleted = "DESTROYED", true
		if err := t.releaseServerPorts(s, at); err != nil {
			return err
		}
		if err := t.releaseServerVolumes(s, at); err != nil {
			return err
		}
		s.Ports = nil
	}
	return putRec(t, bServers, id, s)
}

// buildFailure says why a build fails: the image vanished (unregistered or
// its object deleted) during BUILD, or it has no content to deploy.
func (t *txn) buildFailure(s *serverRec) string {
	img, ok := t.imageByID(s.Image)
	if !ok {
		return "Image " + s.Image + " is no longer available"
	}
	if img.obj.Bytes == 0 {
		return "Image " + s.Image + " is empty: nothing to deploy"
	}
	return ""
}

// startTask records a pending job and queues its completion.
func (t *txn) startTask(s *serverRec, task string, now, until int64) error {
	s.Task, s.TaskStart, s.TaskUntil, s.Updated = task, now, until, now
	if err := putRec(t, bServers, s.ID, s); err != nil {
		return err
	}
	return t.schedule(dueServer, itoa(s.ID), until)
}
