package localcloud

import (
	"encoding/json"
	"fmt"
	"strings"
)

// actionNames are the internal (Ganeti-side) names used in messages.
var operNames = map[string]string{"STARTED": "STARTED", "STOPPED": "STOPPED", "BUILD": "BUILD", "ERROR": "ERROR"}

// validateAction applies Synnefo's precondition table (§3.6) in order.
func validateAction(s *serverRec, action string) error {
	if s.Deleted {
		return badRequest("Server has been deleted.")
	}
	if action == "DESTROY" {
		return nil
	}
	if s.Task == "BUILD" {
		return buildInProgress("Server is being built.")
	}
	if s.Task != "" {
		return badRequest(fmt.Sprintf("Cannot perform '%s' action while there is a pending '%s'.", action, s.Task))
	}
	if action == "REASSIGN" {
		return nil
	}
	if s.Oper == "ERROR" {
		return badRequest(fmt.Sprintf("Cannot perform '%s' action while server is in 'ERROR' state.", action))
	}
	if s.Oper == "BUILD" {
		return buildInProgress("Server is being built.")
	}
	need := map[string]string{"START": "STOPPED", "STOP": "STARTED", "RESIZE": "STOPPED"}[action]
	if need != "" && s.Oper != need {
		return badRequest(fmt.Sprintf("Cannot perform '%s' action while server is in '%s' state.", action, operNames[s.Oper]))
	}
	return nil
}

// serverFor loads a server the caller may see that accepts action now
// (validateAction).
func (t *txn) serverFor(u *User, id int64, action string) (*serverRec, error) {
	s, err := t.visibleServer(u, id)
	if err != nil {
		return nil, err
	}
	if err := validateAction(s, action); err != nil {
		return nil, err
	}
	return s, nil
}

// serverAction is POST /servers/{id}/action (§3.7).
func (c *Cloud) serverAction(q *creq, id int64) error {
	var body map[string]json.RawMessage
	if err := readBody(q, &body); err != nil {
		return err
	}
	if len(body) != 1 {
		return badRequest("Malformed request")
	}
	var key string
	var raw json.RawMessage
	for key, raw = range body {
	}
	args := map[string]json.RawMessage{}
	if string(raw) != "null" {
		if json.Unmarshal(raw, &args) != nil || args == nil {
			return badRequest("Malformed request")
		}
	}
	switch key {
	case "start", "os-start":
		return c.startAction(q, id, "START", 202)
	case "shutdown", "os-stop":
		return c.startAction(q, id, "STOP", 202)
	case "reboot":
		typ, _, err := str(args, "type")
		if err != nil {
			return err
		}
		if typ != "" && typ != "SOFT" && typ != "HARD" {
			return badRequest("Invalid reboot type '" + typ + "'")
		}
		return c.startAction(q, id, "REBOOT", 202)
	case "resize":
		raw, ok := args["flavorRef"]
		if !ok {
			return badRequest("Malformed request: 'flavorRef' is required")
		}
		fid, ok := intID(raw)
		if !ok {
			return badRequest("Invalid flavorRef")
		}
		return c.resize(q, id, fid)
	case "console":
		return c.console(q, id, args)
	case "os-getVNCConsole":
		typ, _, err := str(args, "type")
		if err != nil {
			return err
		}
		if typ != "novnc" && typ != "xvpvnc" {
			return badRequest("Invalid console type")
		}
		if _, err := c.activeServer(q, id); err != nil {
			return err
		}
		writeJSON(q.w, 200, consoleReply[vncConsole]{vncConsole{Type: typ, URL: q.base + "/cyclades/vnc/" + itoa(id) + "?token=" + newPublicID()}})
		return nil
	case "firewallProfile":
		return c.firewallProfile(q, id, args)
	case "reassign":
		return c.reassign(q, id, args)
	case "addFloatingIp", "removeFloatingIp":
		addr, _, err := str(args, "address")
		if err != nil || addr == "" {
			return badRequest("Malformed request: 'address' is required")
		}
		return c.floatingIPAction(q, id, addr, key == "addFloatingIp")
	case "rescue", "unrescue":
		return &fault{Status: 404, Name: "featureNotEnabled", Message: "Rescue mode is not enabled."}
	case "os-getSPICEConsole", "os-getRDPConsole", "changePassword", "rebuild", "confirmResize", "revertResize":
		return notImplemented("Action " + key + " is not implemented")
	case "suspend":
		return forbidden("User is not allowed to suspend servers")
	}
	return badRequest("Action " + key + " not supported")
}

// startAction starts the server job action (START, STOP, REBOOT, DESTROY)
// when the server accepts it, and answers status with no body.
func (c *Cloud) startAction(q *creq, id int64, action string, status int) error {
	return c.updateStatus(q, status, func(t *txn) error {
		s, err := t.serverFor(q.u, id, action)
		if err != nil {
			return err
		}
		stopped := s.Oper == "STOPPED"
		if err := t.startTask(s, action, q.now, q.now+int64(c.actionDelay())); err != nil {
			return err
		}
		if stopped && s.online() {
			return t.commissionStart(c, s)
		}
		return nil
	})
}

func (c *Cloud) resize(q *creq, id, fid int64) error {
	fl, ok := flavorByID(fid)
	if !ok {
		return notFound("Flavor not found.")
	}
	return c.updateStatus(q, 202, func(t *txn) error {
		s, err := t.serverFor(q.u, id, "RESIZE")
		if err != nil {
			return err
		}
		old, _ := flavorByID(s.Flavor)
		// Synnefo's logic/servers.py resize, its checks and texts.
		if old.ID == fl.ID {
			return badRequest(fmt.Sprintf("Server '%s' flavor is already '%s'.", s.Name, fl.name()))
		}
		if old.Disk != fl.Disk {
			return badRequest("Cannot change instance's disk size.")
		}
		if old.VolType != fl.VolType {
			return badRequest("Cannot change instance's volume type.")
		}
		s.ResizeTo = fl.ID
		return t.startTask(s, "RESIZE", q.now, q.now+int64(c.actionDelay()))
	})
}

// activeServer loads a server that must be ACTIVE (console rules).
func (c *Cloud) activeServer(q *creq, id int64) (*serverRec, error) {
	var s *serverRec
	err := c.store.view(func(t *txn) error {
		var err error
		s, err = t.visibleServer(q.u, id)
		if err != nil {
			return err
		}
		if s.Deleted {
			return badRequest("Server has been deleted.")
		}
		if s.status() != "ACTIVE" {
			return badRequest("Server not in ACTIVE state.")
		}
		return nil
	})
	return s, err
}

func (c *Cloud) console(q *creq, id int64, args map[string]json.RawMessage) error {
	typ, _, err := str(args, "type")
	if err != nil {
		return err
	}
	switch typ {
	case "vnc", "vnc-ws", "vnc-wss":
	default:
		return badRequest("Invalid console type")
	}
	if _, err := c.activeServer(q, id); err != nil {
		return err
	}
	host := q.r.Host
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	writeJSON(q.w, 200, consoleReply[serverConsole]{serverConsole{
		Type: typ, Host: host, Port: 5900 + int(id%1000), Password: newPublicID(),
	}})
	return nil
}

func (c *Cloud) firewallProfile(q *creq, id int64, args map[string]json.RawMessage) error {
	profile, _, err := str(args, "profile")
	if err != nil || profile == "" {
		return badRequest("Malformed request: 'profile' is required")
	}
	if profile != "ENABLED" && profile != "DISABLED" && profile != "PROTECTED" {
		return badRequest("Invalid firewall profile '" + profile + "'")
	}
	nraw, ok := args["nic"]
	if !ok {
		return badRequest("Malformed request: 'nic' is required")
	}
	nic, ok := intID(nraw)
	if !ok {
		return badRequest("Invalid nic")
	}
	return c.updateStatus(q, 202, func(t *txn) error {
		s, err := t.serverFor(q.u, id, "FIREWALL")
		if err != nil {
			return err
		}
		p, ok := getRec[portRec](t, bPorts, nic)
		if !ok || p.Device != s.ID {
			return notFound("NIC not found.")
		}
		p.Firewall, p.Updated = profile, q.now
		return putRec(t, bPorts, p.ID, p)
	})
}

func (c *Cloud) reassign(q *creq, id int64, args map[string]json.RawMessage) error {
	project, _, err := str(args, "project")
	if err != nil || project == "" {
		return badRequest("Malformed request: 'project' is required")
	}
	shared, err := boolField(args, "shared_to_project")
	if err != nil {
		return err
	}
	if shared {
		return forbidden("Sharing resource to the members of the project is not permitted")
	}
	return c.updateStatus(q, 200, func(t *txn) error {
		s, err := t.serverFor(q.u, id, "REASSIGN")
		if err != nil {
			return err
		}
		s.Project, s.Shared, s.Updated = project, false, q.now
		if err := putRec(t, bServers, id, s); err != nil {
			return err
		}
		if err := t.moveRootVolume(s); err != nil {
			return err
		}
		return t.commissionReassign(c, q.u, project, serverHoldings(s))
	})
}
