package localcloudtest_test

import (
	"net/http"
	"testing"

	"github.com/pithosfs/pithosfs/synnefo/localcloud/localcloudtest"
)

func TestNew(t *testing.T) {
	carol := localcloudtest.User{Name: "carol@example.org", UUID: "cccccccc-0000-4000-8000-000000000003", Token: "carol-token"}
	for _, tt := range []struct {
		name  string
		users []localcloudtest.User
		want  []string // tokens
	}{
		{"default", nil, []string{"alice-token", "bob-token"}},
		{"given", []localcloudtest.User{carol}, []string{"carol-token"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := localcloudtest.New(t, tt.users...)
			if len(c.Users) != len(tt.want) || c.Token() != tt.want[0] || c.User().Quota == 0 {
				t.Fatalf("users %+v, want tokens %v", c.Users, tt.want)
			}
			for _, u := range c.Users {
				req, _ := http.NewRequest("GET", c.ObjectStoreURL()+"/"+u.UUID, nil)
				req.Header.Set("X-Auth-Token", u.Token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					t.Fatalf("%s lists its account: %s", u.Name, resp.Status)
				}
			}
		})
	}
}

func TestNewConfigKeepsDir(t *testing.T) {
	dir := t.TempDir()
	c := localcloudtest.NewConfig(t, localcloudtest.Config{Dir: dir, BlockSize: 1024})
	if c.Dir != dir || c.Cloud.BlockSize() != 1024 || c.Token() != localcloudtest.Alice().Token {
		t.Fatalf("dir %q block size %d token %q", c.Dir, c.Cloud.BlockSize(), c.Token())
	}
}
