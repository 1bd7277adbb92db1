package localcloud

import (
	"encoding/json"
	"strconv"
)

// The commissions API's replies and refusals, typed (Synnefo's
// astakos/api/quotas.py and quotaholder_app/exception.py): the quotaholder
// (commissions.go) returns these, the handlers (commissions_http.go) encode
// them. Fields are declared in the order of their JSON keys, the order the
// maps they replace were written in, so the bytes are unchanged.

// provisionView is a provision as replies show it (source null when none).
type provisionView struct {
	Holder   string  `json:"holder"`
	Quantity int64   `json:"quantity"`
	Resource string  `json:"resource"`
	Source   *string `json:"source"`
}

func provisionViewOf(p provision) provisionView {
	return provisionView{Holder: p.Holder, Quantity: p.Quantity, Resource: p.Resource, Source: p.Source}
}

// quotaFaultData is a quotaholder exception's data: its class name, the
// provision refused and, for capacity and quantity errors, the holding's
// limit and usage.
type quotaFaultData struct {
	Limit     *int64        `json:"limit,omitempty"`
	Name      string        `json:"name"`
	Provision provisionView `json:"provision"`
	Usage     *int64        `json:"usage,omitempty"`
}

// commissionFault is the body of a refused commission, and of one serial
// that failed to resolve (no data then).
type commissionFault struct {
	Code    int             `json:"code"`
	Data    *quotaFaultData `json:"data,omitempty"`
	Message string          `json:"message"`
}

// commissionSerial is the reply to an issued commission.
type commissionSerial struct {
	Serial int64 `json:"serial"`
}

// commissionView is GET /commissions/<serial>.
type commissionView struct {
	IssueTime  string          `json:"issue_time"`
	Name       string          `json:"name"`
	Provisions []provisionView `json:"provisions"`
	Serial     int64           `json:"serial"`
}

// failedSerial is a serial resolve could not resolve, with its fault by
// name; on the wire a pair [serial, {"<name>": fault}].
type failedSerial struct {
	Serial int64
	Fault  map[string]commissionFault
}

func (f failedSerial) MarshalJSON() ([]byte, error) {
	return marshalPair(strconv.FormatInt(f.Serial, 10), f.Fault)
}

// marshalPair renders the JSON array [number, second]: number is already
// JSON (an integer's digits).
func marshalPair(number string, second any) ([]byte, error) {
	b, err := json.Marshal(second)
	if err != nil {
		return nil, err
	}
	out := append([]byte("["), number...)
	out = append(append(out, ','), b...)
	return append(out, ']'), nil
}

// resolveReply is POST /commissions/action.
type resolveReply struct {
	Accepted []int64        `json:"accepted"`
	Failed   []failedSerial `json:"failed"`
	Rejected []int64        `json:"rejected"`
}
