package localcloud

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Astakos' quotaholder: holdings and commissions (Synnefo's
// astakos/quotaholder_app: callpoint.py and commission.py). A holding is
// (holder, source, resource): "user:<uuid>" in "project:<uuid>" (limit: the
// project's member capacity, for its members) or "project:<uuid>" with no
// source (limit: the project capacity). A commission is a list of
// provisions a service issues against holdings: a positive quantity raises
// the holding's usage_max at once (refused over the limit, unless forced),
// a negative one lowers its usage_min (refused below zero); accepting makes
// the change whole, rejecting undoes it. Until then it is pending.
//
// The local cloud's own services charge every resource change as a
// commission accepted in the transaction that makes the change: the
// resource's committed state (containers' bytes, servers, networks, IPs) is
// that part of the holding's usage, so those commissions need no ledger
// entry. Commissions issued through the API by a component (Config's
// ComponentToken) are kept: bCommissions holds the pending ones, bHoldings
// each holding's usage_min and usage_max beyond the cloud's own state.
// Both kinds are checked against the same limits.

var (
	bCommissions = []byte("commissions") // serial:8 -> commissionRec
	bHoldings    = []byte("holdings")    // holder \0 source \0 resource -> holdingRec
)

// provision is one entry of a commission.
type provision struct {
	Holder   string  `json:"holder"`
	Source   *string `json:"source"`
	Resource string  `json:"resource"`
	Quantity int64   `json:"quantity"`
}

func (p provision) key() string {
	src := ""
	if p.Source != nil {
		src = *p.Source
	}
	return p.Holder + "\x00" + src + "\x00" + p.Resource
}

type commissionRec struct {
	Serial     int64       `json:"serial"`
	Client     string      `json:"client"`
	Name       string      `json:"name"`
	Issued     int64       `json:"issued"`
	Provisions []provision `json:"provisions"`
}

// holdingRec is what API commissions add to a holding's usage.
type holdingRec struct {
	Min int64 `json:"usage_min"`
	Max int64 `json:"usage_max"`
}

// offset reads the API commissions' part of a holding.
func (t *txn) offset(holder, source, resource string) holdingRec {
	return t.offsetByKey(holder + "\x00" + source + "\x00" + resource)
}

func (t *txn) putOffset(key string, h holdingRec) error {
	if h == (holdingRec{}) {
		return t.tx.Bucket(bHoldings).Delete([]byte(key))
	}
	return putJSON(t.tx.Bucket(bHoldings), []byte(key), h)
}

// holding is a holding's limit and usage (the state's part plus the API
// commissions'), or false when there is no such holding.
type holding struct {
	limit, min, max int64
	key             string
}

func (t *txn) holding(c *Cloud, p provision, cache map[string]map[string]usage) (holding, bool) {
	if _, ok := resourceByName(p.Resource); !ok {
		return holding{}, false
	}
	var user, project string
	switch {
	case strings.HasPrefix(p.Holder, "user:") && p.Source != nil && strings.HasPrefix(*p.Source, "project:"):
		user, project = strings.TrimPrefix(p.Holder, "user:"), strings.TrimPrefix(*p.Source, "project:")
		if c.byID[user] == nil || !t.isMember(user, project) {
			return holding{}, false
		}
	case strings.HasPrefix(p.Holder, "project:") && p.Source == nil:
		project = strings.TrimPrefix(p.Holder, "project:")
	default:
		return holding{}, false
	}
	pr, ok := t.project(c, project)
	if !ok {
		return holding{}, false
	}
	ck := project + "\x00" + user
	use, ok := cache[ck]
	if !ok {
		use = t.projectUsage(project, user, false)
		cache[ck] = use
	}
	g := pr.Resources[p.Resource]
	if pr.State != "active" {
		g = grant{}
	}
	h := holding{key: p.key()}
	off := t.offsetByKey(h.key)
	if user != "" {
		h.limit, h.min, h.max = g.Member, use[p.Resource].member+off.Min, use[p.Resource].member+off.Max
	} else {
		h.limit, h.min, h.max = g.Project, use[p.Resource].project+off.Min, use[p.Resource].project+off.Max
	}
	return h, true
}

func (t *txn) offsetByKey(key string) holdingRec {
	var h holdingRec
	getJSON(t.tx.Bucket(bHoldings), []byte(key), &h)
	return h
}

// commissionError is a refused commission: 413 overLimit (NoCapacityError,
// NoQuantityError) or 404 itemNotFound (NoHoldingError), with Synnefo's data.
type commissionError struct {
	status int
	name   string // overLimit, itemNotFound
	body   commissionFault
}

func (e *commissionError) Error() string { return e.body.Message }

// pyRepr renders a holding key as Python's unicode() of its tuple does.
func pyRepr(p provision) string {
	src := "None"
	if p.Source != nil {
		src = "u'" + *p.Source + "'"
	}
	return fmt.Sprintf("(u'%s', %s, u'%s')", p.Holder, src, p.Resource)
}

// mergeProvisions sums the quantities of provisions on one holding
// (_merge_same_keys), in a stable order.
func mergeProvisions(ps []provision) []provision {
	sum := map[string]*provision{}
	var order []string
	for _, p := range ps {
		k := p.key()
		if q, ok := sum[k]; ok {
			q.Quantity += p.Quantity
			continue
		}
		cp := p
		sum[k] = &cp
		order = append(order, k)
	}
	out := make([]provision, 0, len(order))
	for _, k := range order {
		out = append(out, *sum[k])
	}
	return out
}

// issue records a commission of the API: every provision prepared on its
// holding (checked unless force; a release is always checked), or none.
// With accept it is resolved at once and not kept.
func (t *txn) issue(c *Cloud, client, name string, ps []provision, force, accept bool) (int64, error) {
	ps = mergeProvisions(ps)
	cache := map[string]map[string]usage{}
	offs := map[string]holdingRec{}
	for _, p := range ps {
		h, ok := t.holding(c, p, cache)
		if !ok {
			return 0, &commissionError{404, "itemNotFound", commissionFault{Code: 404,
				Message: "There is no such holding " + pyRepr(p),
				Data:    &quotaFaultData{Name: "NoHoldingError", Provision: provisionViewOf(p)}}}
		}
		off := t.offsetByKey(h.key)
		if p.Quantity >= 0 {
			if !force && h.max+p.Quantity > h.limit {
				return 0, capacityError("NoCapacityError", fmt.Sprintf("%s has not enough capacity of %s.", p.Holder, p.Resource), p, h.limit, h.max)
			}
			off.Max += p.Quantity
		} else {
			if h.min+p.Quantity < 0 {
				return 0, capacityError("NoQuantityError", fmt.Sprintf("%s attempts to release more %s than it contains.", p.Holder, p.Resource), p, 0, h.min)
			}
			off.Min += p.Quantity
		}
		offs[h.key] = off
	}
	for k, off := range offs {
		if err := t.putOffset(k, off); err != nil {
			return 0, err
		}
	}
	serial, err := t.nextSeq(bCommissions)
	if err != nil {
		return 0, err
	}
	rec := &commissionRec{Serial: serial, Client: client, Name: name, Issued: t.s.now(), Provisions: ps}
	if accept {
		return serial, t.finish(rec, true)
	}
	return serial, putRec(t, bCommissions, serial, rec)
}

func capacityError(name, msg string, p provision, limit, use int64) *commissionError {
	return &commissionError{413, "overLimit", commissionFault{Code: 413, Message: msg,
		Data: &quotaFaultData{Name: name, Provision: provisionViewOf(p), Limit: &limit, Usage: &use}}}
}

// finish accepts (finalize) or rejects (undo) a pending commission.
func (t *txn) finish(rec *commissionRec, accept bool) error {
	for _, p := range rec.Provisions {
		k := p.key()
		off := t.offsetByKey(k)
		switch {
		case accept && p.Quantity >= 0:
			off.Min += p.Quantity
		case accept:
			off.Max += p.Quantity
		case p.Quantity >= 0:
			off.Max -= p.Quantity
		default:
			off.Min -= p.Quantity
		}
		if err := t.putOffset(k, off); err != nil {
			return err
		}
	}
	return t.tx.Bucket(bCommissions).Delete(idKey(rec.Serial))
}

// pending finds a pending commission of client.
func (t *txn) pending(client string, serial int64) (*commissionRec, bool) {
	rec, ok := getRec[commissionRec](t, bCommissions, serial)
	if !ok || rec.Client != client {
		return nil, false
	}
	return rec, true
}

// pendingSerials lists client's pending commissions.
func (t *txn) pendingSerials(client string) []int64 {
	out := []int64{}
	cur := t.tx.Bucket(bCommissions).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		var rec commissionRec
		if json.Unmarshal(v, &rec) == nil && rec.Client == client {
			out = append(out, int64(binary.BigEndian.Uint64(k)))
		}
	}
	return out
}

// resolve accepts and rejects many pending commissions of client
// (resolve_pending_commissions): a serial in both lists is a conflict, an
// unknown one not found.
func (t *txn) resolve(client string, accept, reject []int64) (resolveReply, error) {
	acc, rej := map[int64]bool{}, map[int64]bool{}
	for _, s := range accept {
		acc[s] = true
	}
	for _, s := range reject {
		rej[s] = true
	}
	all := make([]int64, 0, len(acc)+len(rej))
	for s := range acc {
		all = append(all, s)
	}
	for s := range rej {
		if !acc[s] {
			all = append(all, s)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	out := resolveReply{Accepted: []int64{}, Rejected: []int64{}, Failed: []failedSerial{}}
	for _, s := range all {
		if acc[s] && rej[s] {
			out.Failed = append(out.Failed, failedSerial{s, map[string]commissionFault{"badRequest": {Code: 400,
				Message: fmt.Sprintf("cannot both accept and reject serial %d", s)}}})
			continue
		}
		rec, ok := t.pending(client, s)
		if !ok {
			out.Failed = append(out.Failed, failedSerial{s, map[string]commissionFault{"itemNotFound": {Code: 404,
				Message: fmt.Sprintf("serial %d does not exist", s)}}})
			continue
		}
		if err := t.finish(rec, acc[s]); err != nil {
			return resolveReply{}, err
		}
		if acc[s] {
			out.Accepted = append(out.Accepted, s)
		} else {
			out.Rejected = append(out.Rejected, s)
		}
	}
	return out, nil
}
