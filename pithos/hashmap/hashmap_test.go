package hashmap

import (
	"bytes"
	"testing"
)

func TestHashVectors(t *testing.T) {
	const mib4 = 4194304
	v6 := make([]byte, 10000000)
	for i := range v6 {
		v6[i] = byte(i % 251)
	}
	v7 := append(bytes.Repeat([]byte{1}, 2*mib4), 'b')
	v7 = append(v7, make([]byte, 999)...)
	e3 := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	ca := "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
	cases := []struct {
		name   string
		data   []byte
		bs     int64
		hashes []string
		top    string
	}{
		{"V1 empty", nil, mib4, []string{e3}, e3},
		{"V2 a", []byte("a"), mib4, []string{ca}, ca},
		{"V3 zero block", make([]byte, mib4), mib4, []string{e3}, e3},
		{"V4 block+a", append(make([]byte, mib4), 'a'), mib4, []string{e3, ca}, "ad83abb09da975a192cb6af596055a37dc786a28b490ecf027d482ab232e42bb"},
		{"V5 zeros", make([]byte, mib4+1), mib4, []string{e3, e3}, "2dba5dbc339e7316aea2683faf839c1b7b1ee2313db792112588118df066aa35"},
		{"V6 pattern", v6, mib4, []string{
			"a117210941a0b00dcb2d8577e680d84b6fa0eaf760d2afc654c953b9859d54fa",
			"9889e2ef8bd7d8fea5ef99243b7784ecd8deaf613bdb7a6c0b3ac56f23078303",
			"07341c6692944d778266e107a76f6e69017da00aad02eb5f5137263f93e60ab9",
		}, "86a2ead1c05f5bb5163c96d4c43e4ada5805e89f3e55430f32904a208363191a"},
		{"V7 short zero tail", v7, mib4, []string{
			"5d2bafc266e711ed1e303de871e5b281fea2083d96e579dd504798bba5a34b42",
			"5d2bafc266e711ed1e303de871e5b281fea2083d96e579dd504798bba5a34b42",
			"3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d",
		}, "b9112fae8d61ed8828ae7592ba03e220769c226139d169ff3203f16ccf58d4dd"},
		{"S1", []byte("abcdefghij"), 4, []string{
			"88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589",
			"e5e088a0b66163a0a26a5e053d2a4496dc16ab6e0e3dd1adf2d16aa84a078c9d",
			"c9df9c3f2963b19b9b95f58c4d33b053fa9f8586dd6ee04126e52a868f882108",
		}, "18374008371944fcd365918bfd1187d4edcaaad1ce8dc23e746347129b1f22d1"},
		{"S2", []byte("abcdefghijklmnopqrst"), 4, []string{
			"88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589",
			"e5e088a0b66163a0a26a5e053d2a4496dc16ab6e0e3dd1adf2d16aa84a078c9d",
			"005c19658919186b85618c5870463eec8d9b8c1a9d00208a5352891ba5bbe086",
			"f1afc31479522d6cff1ed068f93998f05a8cd3b22f5c37d7f307084f62d1d270",
			"8399259a2c4fec3f1a52ac9c95238c5871943db9740e52ab272024e9f70d6c1d",
		}, "15d49499ef201ecc244e0da4c7492666b309047fd6ff75dc0f2e64c6593e9465"},
		{"S3", []byte("ab\x00\x00cd"), 4, []string{
			"fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603",
			"21e721c35a5823fdb452fa2f9f0a612c74fb952e06927489c6b27a43b817bed4",
		}, "c5fdd166560d16ced70242cfaf2894e2bc666fe24fff13449c52299f63c749ce"},
		{"S4", []byte("ab"), 4, []string{
			"fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603",
		}, "fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := HashBytes(c.data, c.bs)
			if m.Bytes != int64(len(c.data)) {
				t.Fatalf("bytes = %d, want %d", m.Bytes, len(c.data))
			}
			if len(m.Hashes) != len(c.hashes) {
				t.Fatalf("got %d hashes, want %d", len(m.Hashes), len(c.hashes))
			}
			for i := range c.hashes {
				if m.Hashes[i] != c.hashes[i] {
					t.Errorf("hash[%d] = %s, want %s", i, m.Hashes[i], c.hashes[i])
				}
			}
			top, err := m.TopHash()
			if err != nil {
				t.Fatal(err)
			}
			if top != c.top {
				t.Errorf("top = %s, want %s", top, c.top)
			}
			if err := m.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestTopHashLevels(t *testing.T) {
	// S2's padding: the fourth level-1 node is H(0^32 || 0^32).
	zero := make([]byte, 32)
	got := topHashRaw([][]byte{zero, zero})
	want := "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b"
	if hexs := bytesHex(got); hexs != want {
		t.Fatalf("H(0||0) = %s, want %s", hexs, want)
	}
}

func bytesHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		m    Map
		ok   bool
	}{
		{"empty no hashes", Map{BlockSize: 4, Bytes: 0}, true},
		{"empty one empty hash", Map{BlockSize: 4, Bytes: 0, Hashes: []string{EmptyHash}}, true},
		{"empty other hash", Map{BlockSize: 4, Bytes: 0, Hashes: []string{BlockHashHex([]byte("a"))}}, false},
		{"too few", Map{BlockSize: 4, Bytes: 5, Hashes: []string{EmptyHash}}, false},
		{"right", Map{BlockSize: 4, Bytes: 5, Hashes: []string{EmptyHash, EmptyHash}}, true},
		{"bad hex", Map{BlockSize: 4, Bytes: 1, Hashes: []string{"zz"}}, false},
		{"negative", Map{BlockSize: 4, Bytes: -1}, false},
	}
	for _, c := range cases {
		if err := c.m.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
