package localcloud

import "slices"

// The compute API's replies, typed: the domain (txn) reads what a server is
// attached to (serverState), the handlers render it with the request's URLs
// (creq.serverDetail), and encoding/json writes it.

// link is one entry of an OpenStack "links" list.
type link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// links is the self and bookmark links of href.
func links(href string) []link {
	return []link{{Rel: "self", Href: href}, {Rel: "bookmark", Href: href}}
}

// idLinks is a reference to another resource: its id and links.
type idLinks[ID any] struct {
	ID    ID     `json:"id"`
	Links []link `json:"links"`
}

// serverAddress is one address of a server on a network.
type serverAddress struct {
	Version int    `json:"version"`
	Addr    string `json:"addr"`
	Type    string `json:"OS-EXT-IPS:type"`
}

// serverAttachment is one NIC of a server (an active port).
type serverAttachment struct {
	ID       int64  `json:"id"`
	Network  string `json:"network_id"`
	MAC      string `json:"mac_address"`
	IPv4     string `json:"ipv4"`
	IPv6     string `json:"ipv6"`
	Firewall string `json:"firewallProfile,omitempty"`
	IPType   string `json:"OS-EXT-IPS:type,omitempty"`
}

type securityGroup struct {
	Name string `json:"name"`
}

// serverDetail is the detail form of a server (§3.5).
type serverDetail struct {
	ID              int64                      `json:"id"`
	Name            string                     `json:"name"`
	Links           []link                     `json:"links"`
	UserID          string                     `json:"user_id"`
	TenantID        string                     `json:"tenant_id"`
	SharedToProject bool                       `json:"shared_to_project"`
	Status          string                     `json:"status"`
	TaskState       string                     `json:"SNF:task_state"`
	Progress        int                        `json:"progress"`
	HostID          string                     `json:"hostId"`
	Created         string                     `json:"created"`
	Updated         string                     `json:"updated"`
	Flavor          idLinks[int64]             `json:"flavor"`
	Image           idLinks[string]            `json:"image"`
	Suspended       bool                       `json:"suspended"`
	Metadata        map[string]string          `json:"metadata"`
	Tags            []string                   `json:"tags"`
	Attachments     []serverAttachment         `json:"attachments"`
	Addresses       map[string][]serverAddress `json:"addresses"`
	Volumes         []int64                    `json:"volumes"`
	Diagnostics     []diagnostic               `json:"diagnostics"`
	SecurityGroups  []securityGroup            `json:"security_groups"`
	KeyName         *string                    `json:"key_name"`
	KeyNames        []string                   `json:"SNF:key_names"`
	ConfigDrive     string                     `json:"config_drive"`
	AccessIPv4      string                     `json:"accessIPv4"`
	AccessIPv6      string                     `json:"accessIPv6"`
	FQDN            string                     `json:"SNF:fqdn"`
	PortForwarding  struct{}                   `json:"SNF:port_forwarding"`
	Deleted         bool                       `json:"deleted"`
	Rescue          bool                       `json:"SNF:rescue"`
	// AdminPass is set only in the reply to the server's creation.
	AdminPass string `json:"adminPass,omitempty"`
}

// serverState is what a server is attached to: its active ports and the
// volumes still attached to it, in id order.
type serverState struct {
	ports   []*portRec
	volumes []int64
}

// serverState reads the ports and volumes of s.
func (t *txn) serverState(s *serverRec) serverState {
	st := serverState{volumes: []int64{}}
	for _, pid := range s.Ports {
		if p, ok := getRec[portRec](t, bPorts, pid); ok && p.Status == "ACTIVE" {
			st.ports = append(st.ports, p)
		}
	}
	for _, vid := range s.Volumes {
		if v, ok := getRec[volumeRec](t, bVolumes, vid); ok && !v.Deleted && v.Server == s.ID {
			st.volumes = append(st.volumes, vid)
		}
	}
	slices.Sort(st.volumes)
	return st
}

// serverNICs renders a server's ports: its attachments and its addresses
// by network id.
func serverNICs(ports []*portRec) ([]serverAttachment, map[string][]serverAddress) {
	attachments := []serverAttachment{}
	addresses := map[string][]serverAddress{}
	for _, p := range ports {
		net := itoa(p.Network)
		att := serverAttachment{ID: p.ID, Network: net, MAC: p.MAC, Firewall: p.Firewall}
		addrs := []serverAddress{}
		for _, ip := range p.IPs {
			typ := "fixed"
			if ip.Floating != 0 {
				typ = "floating"
			}
			att.IPv4, att.IPType = ip.Addr, typ
			addrs = append(addrs, serverAddress{Version: 4, Addr: ip.Addr, Type: typ})
		}
		attachments = append(attachments, att)
		if prev, ok := addresses[net]; ok {
			addrs = append(prev, addrs...)
		}
		addresses[net] = addrs
	}
	return attachments, addresses
}

// serverDetail renders a server and its state with the request's URLs.
func (q *caller) serverDetail(s *serverRec, st serverState) *serverDetail {
	meta := map[string]string{}
	for k, v := range s.Meta {
		meta[k] = v
	}
	var keyName *string
	if len(s.KeyNames) > 0 {
		keyName = &s.KeyNames[0]
	}
	diags := []diagnostic{}
	if n := len(s.Diagnostics); n > 0 {
		diags = append(diags, s.Diagnostics[n-1])
	}
	attachments, addresses := serverNICs(st.ports)
	img := q.computeURL() + "/images/" + s.Image
	return &serverDetail{
		ID: s.ID, Name: s.Name, Links: links(q.computeURL() + "/servers/" + itoa(s.ID)),
		UserID: s.Owner, TenantID: s.Project, SharedToProject: s.Shared,
		Status: s.status(), TaskState: taskStates[s.Task], Progress: s.progress(q.now),
		Created: isoDate(s.Created), Updated: isoDate(s.Updated),
		Flavor: idLinks[int64]{ID: s.Flavor, Links: links(q.computeURL() + "/flavors/" + itoa(s.Flavor))},
		Image: idLinks[string]{ID: s.Image, Links: append(links(img),
			link{Rel: "alternate", Href: q.imageURL() + "/images/" + s.Image})},
		Metadata:    meta,
		Tags:        s.activeTags(), // tags stay PENDADD until the build (and their job) succeeds
		Attachments: attachments, Addresses: addresses, Volumes: st.volumes,
		Diagnostics: diags, SecurityGroups: []securityGroup{{Name: "default"}},
		KeyName: keyName, KeyNames: nonNil(s.KeyNames),
		FQDN:    "snf-" + itoa(s.ID) + ".vm.localcloud",
		Deleted: s.Deleted,
	}
}

// serverSummary is the list form of a server.
type serverSummary struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Links []link `json:"links"`
}

// flavorSummary is the list form of a flavor.
type flavorSummary struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Links []link `json:"links"`
}

// flavorDetail is the detail form of a flavor.
type flavorDetail struct {
	flavorSummary
	RAM         int      `json:"ram"`
	VCPUs       int      `json:"vcpus"`
	Disk        int      `json:"disk"`
	Template    string   `json:"SNF:disk_template"`
	VolType     int64    `json:"SNF:volume_type"`
	AllowCreate bool     `json:"SNF:allow_create"`
	Public      bool     `json:"os-flavor-access:is_public"`
	Access      []string `json:"SNF:flavor-access"`
}

// flavorSummary renders a flavor's summary.
func (q *caller) flavorSummary(f flavor) flavorSummary {
	return flavorSummary{ID: f.ID, Name: f.name(), Links: links(q.computeURL() + "/flavors/" + itoa(f.ID))}
}

// flavorDetail renders a flavor's detail form.
func (q *caller) flavorDetail(f flavor) *flavorDetail {
	return &flavorDetail{flavorSummary: q.flavorSummary(f), RAM: f.RAM, VCPUs: f.VCPUs, Disk: f.Disk, Template: f.Template,
		VolType: f.VolType, AllowCreate: true, Public: true, Access: []string{}}
}
