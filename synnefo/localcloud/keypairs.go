package localcloud

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
)

// Key pairs (cyclades-api.md §6): records, their generation and
// fingerprint, and the domain a caller's requests run (list, get, add,
// delete). keypairs_http.go decodes the requests and encodes the replies.

type keypairRec struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	PublicKey   string `json:"public_key"`
	Fingerprint string `json:"fingerprint"`
	Created     int64  `json:"created"`
}

func kpKey(owner, name string) []byte { return []byte(owner + "\x00" + name) }

func (t *txn) keypair(owner, name string) (*keypairRec, bool) {
	var k keypairRec
	ok := getJSON(t.tx.Bucket(bKeypairs), kpKey(owner, name), &k)
	return &k, ok
}

// fingerprint is the colon-separated MD5 of the key blob of an OpenSSH
// public key line.
func fingerprint(pub string) (string, bool) {
	fields := strings.Fields(pub)
	if len(fields) < 2 {
		return "", false
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil || len(blob) < 4 {
		return "", false
	}
	sum := md5.Sum(blob)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":"), true
}

// newKeyPair generates a key pair as Synnefo's userdata.generate_keypair
// does: RSA of 2048 bits, the public key an OpenSSH "ssh-rsa" line, the
// private key PKCS#1 PEM ("RSA PRIVATE KEY").
func newKeyPair() (pub, priv string, err error) {
	sk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", err
	}
	sshString := func(out, b []byte) []byte {
		out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
		return append(out, b...)
	}
	mpint := func(out []byte, n *big.Int) []byte {
		b := n.Bytes()
		if len(b) > 0 && b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return sshString(out, b)
	}
	blob := sshString(nil, []byte("ssh-rsa"))
	blob = mpint(blob, big.NewInt(int64(sk.E)))
	blob = mpint(blob, sk.N)
	der := x509.MarshalPKCS1PrivateKey(sk)
	return "ssh-rsa " + base64.StdEncoding.EncodeToString(blob), string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})), nil
}

// listKeypairs is the caller's key pairs, by name.
func (c *Cloud) listKeypairs(a *caller) (keypairsReply, error) {
	out := keypairsReply{Keypairs: []keypairReply[keypairSummary]{}}
	err := c.store.view(func(t *txn) error {
		prefix := []byte(a.u.UUID + "\x00")
		cur := t.tx.Bucket(bKeypairs).Cursor()
		for k, v := cur.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, v = cur.Next() {
			var kp keypairRec
			if err := json.Unmarshal(v, &kp); err != nil {
				return err
			}
			out.Keypairs = append(out.Keypairs, keypairReply[keypairSummary]{keypairSummary{Name: kp.Name, Fingerprint: kp.Fingerprint, PublicKey: kp.PublicKey}})
		}
		return nil
	})
	return out, err
}

// getKeypair is the caller's key pair name.
func (c *Cloud) getKeypair(a *caller, name string) (keypairDetail, error) {
	var kp *keypairRec
	err := c.store.view(func(t *txn) error {
		var ok bool
		if kp, ok = t.keypair(a.u.UUID, name); !ok {
			return notFound("KeyPair not found.")
		}
		return nil
	})
	if err != nil {
		return keypairDetail{}, err
	}
	return keypairDetail{Name: kp.Name, Fingerprint: kp.Fingerprint, PublicKey: kp.PublicKey, ID: kp.ID,
		CreatedAt: isoDate(kp.Created), UpdatedAt: isoDate(kp.Created)}, nil
}

// deleteKeypair removes the caller's key pair name.
func (c *Cloud) deleteKeypair(a *caller, name string) error {
	return c.store.update(func(t *txn) error {
		if _, ok := t.keypair(a.u.UUID, name); !ok {
			return notFound("KeyPair not found.")
		}
		return t.tx.Bucket(bKeypairs).Delete(kpKey(a.u.UUID, name))
	})
}

// addKeypair stores the caller's key pair name with public key pub, or,
// with generate, a new key pair whose private key only the reply carries.
func (c *Cloud) addKeypair(a *caller, name, pub string, generate bool) (keypairSummary, error) {
	priv := ""
	if generate {
		var err error
		if pub, priv, err = newKeyPair(); err != nil {
			return keypairSummary{}, err
		}
	}
	fp, ok := fingerprint(pub)
	if !ok {
		return keypairSummary{}, badRequest("Invalid public key")
	}
	kp := &keypairRec{Name: name, PublicKey: pub, Fingerprint: fp, Created: a.now}
	err := c.store.update(func(t *txn) error {
		if _, exists := t.keypair(a.u.UUID, name); exists {
			return conflict("KeyPair '" + name + "' already exists.")
		}
		n, err := t.tx.Bucket(bKeypairs).NextSequence()
		if err != nil {
			return err
		}
		kp.ID = int64(n)
		return putJSON(t.tx.Bucket(bKeypairs), kpKey(a.u.UUID, name), kp)
	})
	if err != nil {
		return keypairSummary{}, err
	}
	return keypairSummary{Name: kp.Name, Fingerprint: kp.Fingerprint, PublicKey: kp.PublicKey, PrivateKey: priv}, nil
}
