package control

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

// TestVolumeUpdateSpecs: what an existing volume's file accepts, decided
// from the document alone (no cloud): the fields it changes, or EINVAL with
// the reason.
func TestVolumeUpdateSpecs(t *testing.T) {
	tests := []struct {
		doc     string
		changed bool   // a name, description or delete_on_termination to send
		err     string // "" = accepted
	}{
		{`{"name": "logs"}`, true, ""},
		{`{"description": ""}`, true, ""},
		{`{"delete_on_termination": false}`, true, ""},
		{`{"server": "web1"}`, false, ""},
		{`{"server": null}`, false, ""},
		{`{"server": 7, "name": "x"}`, true, ""},
		{`{}`, false, "nothing to do"},
		{`{"size": 20}`, false, "size and type cannot change"},
		{`{"type": "ext_archipelago"}`, false, "size and type cannot change"},
		{`{"metadata": {"k": "v"}}`, false, "size and type cannot change"},
		{`{"project": "p"}`, false, "size and type cannot change"},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			var spec volumeSpec
			if complete, err := decodeStrict([]byte(tt.doc), &spec); err != nil || !complete {
				t.Fatalf("decode: %v %v", complete, err)
			}
			_, changed, err := volumeUpdate(&spec)
			if tt.err == "" {
				if err != nil || changed != tt.changed {
					t.Errorf("changed %v, err %v; want changed %v, no error", changed, err, tt.changed)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) || errnoOf("update", err) != syscall.EINVAL {
				t.Errorf("err %v (%v), want EINVAL %q", err, errnoOf("update", err), tt.err)
			}
		})
	}
}

// TestIDOrName: a reference to a server, volume or type is a JSON number
// or a non-empty string.
func TestIDOrName(t *testing.T) {
	tests := []struct {
		raw, want string
		ok        bool
	}{
		{`42`, "42", true},
		{`"web1"`, "web1", true},
		{`"42"`, "42", true},
		{`""`, "", false},
		{`12.5`, "", false},
		{`null`, "", false},
		{`{"id": 1}`, "", false},
		{`["a"]`, "", false},
	}
	for _, tt := range tests {
		got, err := idOrName([]byte(tt.raw), "server")
		var ue *userError
		if tt.ok != (err == nil) || got != tt.want || (err != nil && (!errors.As(err, &ue) || ue.errno != syscall.EINVAL)) {
			t.Errorf("idOrName(%s) = %q, %v; want %q, ok %v", tt.raw, got, err, tt.want, tt.ok)
		}
	}
}
