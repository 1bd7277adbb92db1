package localcloud

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
)

// Synnefo generates RSA keypairs: an OpenSSH ssh-rsa public key and the
// PKCS#1 PEM private key of the same pair (userdata/util.py).
func TestKeypairIsRSA(t *testing.T) {
	e := newCyEnv(t)
	kp := obj(e.do("POST", computeP+"/os-keypairs", `{"keypair": {"name": "k"}}`).want(t, 201).m, "keypair")
	block, _ := pem.Decode([]byte(kp["private_key"].(string)))
	if block == nil || block.Type != "RSA PRIVATE KEY" {
		t.Fatalf("private key %q", kp["private_key"])
	}
	sk, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil || sk.N.BitLen() != 2048 {
		t.Fatalf("private key: %v", err)
	}
	typ, b64, _ := strings.Cut(kp["public_key"].(string), " ")
	blob, err := base64.StdEncoding.DecodeString(b64)
	if typ != "ssh-rsa" || err != nil {
		t.Fatalf("public key %q", kp["public_key"])
	}
	var fields [][]byte
	for len(blob) >= 4 {
		n := binary.BigEndian.Uint32(blob)
		fields, blob = append(fields, blob[4:4+n]), blob[4+n:]
	}
	if len(fields) != 3 || string(fields[0]) != "ssh-rsa" || new(big.Int).SetBytes(fields[1]).Int64() != int64(sk.E) || new(big.Int).SetBytes(fields[2]).Cmp(sk.N) != 0 {
		t.Errorf("public key does not match the private key")
	}
}

// A stopped server resizes to a flavor of the same disk and volume type;
// otherwise Synnefo's texts (logic/servers.py resize).
func TestResizeFlavors(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	id := e.createServer("r", img, 3, nil)["id"]
	e.waitStatus(id, "ACTIVE")
	path := computeP + "/servers/" + jsonID(id)
	e.do("POST", path+"/action", `{"shutdown": {}}`).want(t, 202)
	e.waitStatus(id, "STOPPED")
	e.do("POST", path+"/action", `{"resize": {"flavorRef": 3}}`).fault(t, 400, "badRequest", "Server 'r' flavor is already 'C2R2048D20ext_archipelago'.")
	e.do("POST", path+"/action", `{"resize": {"flavorRef": 1}}`).fault(t, 400, "badRequest", "Cannot change instance's disk size.")
	e.do("POST", path+"/action", `{"resize": {"flavorRef": 8}}`).fault(t, 400, "badRequest", "Cannot change instance's volume type.")
	e.do("POST", path+"/action", `{"resize": {"flavorRef": 10}}`).want(t, 202)
	got := e.poll("resized", func() map[string]any { return e.server(id) }, func(s map[string]any) bool {
		return jsonID(obj(s, "flavor")["id"]) == "10" && s["status"] == "STOPPED"
	})
	if jsonID(obj(got, "flavor")["id"]) != "10" {
		t.Fatalf("after resize: %v", got["flavor"])
	}
}

// A snapshot is registered at its volume's size (Synnefo's
// volume/snapshots.py create), not at the bytes of its object.
func TestSnapshotSizeIsVolumeSize(t *testing.T) {
	e := newCyEnv(t)
	img := e.image("img", diskData, nil)
	s := e.createServer("s", img, 3, nil) // 20 GiB disk
	e.waitStatus(s["id"], "ACTIVE")
	a := e.do("GET", computeP+"/servers/"+jsonID(s["id"]), nil).want(t, 200).m["server"].(map[string]any)
	volID := int64(a["volumes"].([]any)[0].(float64))
	snap := obj(e.do("POST", volumeP+"/snapshots", map[string]any{"snapshot": map[string]any{"volume_id": itoa(volID), "display_name": "b"}}).want(t, 202).m, "snapshot")
	if snap["size"] != float64(20) {
		t.Errorf("snapshot size %v GiB, want 20", snap["size"])
	}
	h := e.do("HEAD", imageP+"/images/"+snap["id"].(string), nil).want(t, 200).h
	if h.Get("X-Image-Meta-Size") != itoa(20<<30) {
		t.Errorf("snapshot image size %q", h.Get("X-Image-Meta-Size"))
	}
}
