package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// makeTree writes a small source tree: nested directories, files of several sizes (one of two
// blocks), modes, an old mtime, a symlink.
func makeTree(t testing.TB, root string) {
	t.Helper()
	for i := range 3 {
		d := filepath.Join(root, fmt.Sprintf("dir%d", i), "sub")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for j := range 5 {
			if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%d.txt", j)), []byte(strings.Repeat(fmt.Sprintf("%d-%d\n", i, j), 100*j+1)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(root, "big.bin"), randomBytes(5<<20+17), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "run.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "empty"), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("dir0/sub/f1.txt", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "dir2"), 0o750); err != nil {
		t.Fatal(err)
	}
	sh(t, "touch -h -d '2015-06-07 08:09:10' "+shq(filepath.Join(root, "run.sh"))+" "+shq(filepath.Join(root, "link")))
}

// treeAttrs lists every path below root with type, mode (not for symlinks) and, for files, size and
// mtime in seconds: what cp -a / rsync -a / tar preserve.
func treeAttrs(t testing.TB, root string) string {
	t.Helper()
	return sh(t, "cd "+shq(root)+` && find . -mindepth 1 \( -type l -printf '%p %y %s %TY-%Tm-%Td_%TH:%TM:%TS\n' \) -o \( -type d -printf '%p %y %m\n' \) -o \( -type f -printf '%p %y %m %s %TY-%Tm-%Td_%TH:%TM:%.2TS\n' \) | sort`)
}

// TestMountToolsLocal runs the real-tool workflows of the issue on a mount of the local cloud.
func TestMountToolsLocal(t *testing.T) {
	srv := startServe(t)
	srv.put(t, alice, "tools", nil, nil)
	m := startMount(t, mountArgs{URL: srv.identityURL(), Token: alice.Token})
	runToolWorkflows(t, m, filepath.Join(m.Dir, alice.Name, "tools"), true)
}

// runToolWorkflows: cp -a + diff -r, rsync -a twice (the second transfers nothing), tar x/c round trip,
// git init/commit/branch/gc, 1 000 appends with >>, truncate -s, concurrent writers; withGit false skips
// git (its lock-file renames over existing files are exercised elsewhere).
func runToolWorkflows(t *testing.T, m *mountProc, c string, withGit bool) {
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	want := treeAttrs(t, src)

	t.Run("cp-a", func(t *testing.T) {
		dst := filepath.Join(c, "cpa")
		sh(t, "cp -a "+shq(src)+" "+shq(dst))
		sh(t, "diff -r "+shq(src)+" "+shq(dst))
		if got := treeAttrs(t, dst); got != want {
			t.Errorf("attributes after cp -a:\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("rsync", func(t *testing.T) {
		dst := filepath.Join(c, "rs")
		out1 := sh(t, "rsync -a --stats "+shq(src+"/")+" "+shq(dst+"/"))
		if !strings.Contains(out1, "Number of regular files transferred: 18") {
			t.Errorf("first rsync:\n%s", out1)
		}
		sh(t, "diff -r "+shq(src)+" "+shq(dst))
		if got := treeAttrs(t, dst); got != want {
			t.Errorf("attributes after rsync -a:\n%s\nwant\n%s", got, want)
		}
		out2 := sh(t, "rsync -a -i --stats "+shq(src+"/")+" "+shq(dst+"/"))
		if !strings.Contains(out2, "Number of regular files transferred: 0") {
			t.Errorf("second rsync transferred files:\n%s", out2)
		}
		for _, l := range strings.Split(out2, "\n") {
			if strings.HasPrefix(l, ">f") || strings.HasPrefix(l, "cd") || strings.HasPrefix(l, ".d") && strings.ContainsAny(l[2:9], "stpog") {
				t.Errorf("second rsync itemized a change: %q", l)
			}
		}
	})

	t.Run("tar", func(t *testing.T) {
		tarball := filepath.Join(t.TempDir(), "t.tar")
		sh(t, "tar -C "+shq(src)+" -cf "+shq(tarball)+" .")
		dst := filepath.Join(c, "tarx")
		sh(t, "mkdir "+shq(dst)+" && tar -C "+shq(dst)+" -xpf "+shq(tarball))
		sh(t, "diff -r "+shq(src)+" "+shq(dst))
		if got := treeAttrs(t, dst); got != want {
			t.Errorf("attributes after tar x:\n%s\nwant\n%s", got, want)
		}
		back := filepath.Join(t.TempDir(), "back")
		sh(t, "mkdir "+shq(back)+" && tar -C "+shq(dst)+" -cf - . | tar -C "+shq(back)+" -xpf -")
		sh(t, "diff -r "+shq(src)+" "+shq(back))
		if got := treeAttrs(t, back); got != want {
			t.Errorf("attributes after the tar c round trip:\n%s\nwant\n%s", got, want)
		}
	})

	if withGit {
		t.Run("git", func(t *testing.T) {
			repo := filepath.Join(c, "repo")
			g := "cd " + shq(repo) + " && git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main "
			sh(t, "mkdir "+shq(repo)+" && "+g+"init -q")
			sh(t, "cp -r "+shq(src)+"/. "+shq(repo))
			sh(t, g+"add -A && "+g+"commit -q -m first")
			sh(t, g+"branch feature && "+g+"checkout -q feature && echo change >> dir0/sub/f0.txt && "+g+"commit -q -am second")
			sh(t, g+"checkout -q main && "+g+"merge -q --ff-only feature")
			sh(t, g+"gc -q --aggressive --prune=now")
			sh(t, g+"fsck --full --strict")
			if got := sh(t, g+"log --format=%s"); got != "second\nfirst\n" {
				t.Errorf("git log: %q", got)
			}
			if got := sh(t, g+"status --porcelain"); got != "" {
				t.Errorf("git status after gc: %q", got)
			}
		})
	}

	t.Run("append-1000", func(t *testing.T) {
		f := filepath.Join(c, "log.txt")
		sh(t, "set -e; for i in $(seq 1 1000); do echo \"line $i\" >> "+shq(f)+"; done")
		var b strings.Builder
		for i := 1; i <= 1000; i++ {
			fmt.Fprintf(&b, "line %d\n", i)
		}
		if got := sh(t, "cat "+shq(f)); got != b.String() {
			i := 0
			for i < len(got) && i < b.Len() && got[i] == b.String()[i] {
				i++
			}
			t.Errorf("after 1 000 appends: %d bytes, want %d; from byte %d: %q, want %q", len(got), b.Len(), i,
				got[i:min(len(got), i+60)], b.String()[i:min(b.Len(), i+60)])
		}
		if conflicts := sh(t, "ls "+shq(c)+" | grep conflict || true"); conflicts != "" {
			t.Errorf("conflict copies after the appends: %s", conflicts)
		}
	})

	t.Run("truncate", func(t *testing.T) {
		f := filepath.Join(c, "tr.bin")
		data := randomBytes(3<<20 + 5)
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sh(t, "truncate -s 1000000 "+shq(f))
		sh(t, "truncate -s 2000000 "+shq(f))
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		exp := append(append([]byte{}, data[:1000000]...), make([]byte, 1000000)...)
		if string(got) != string(exp) {
			t.Errorf("after truncate -s 1000000 then 2000000: %d bytes, content differs", len(got))
		}
	})

	t.Run("concurrent-writers", func(t *testing.T) {
		dir := filepath.Join(c, "conc")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		datas := make([][]byte, 8)
		errs := make([]error, 8)
		for i := range datas {
			datas[i] = randomBytes(1<<20 + i*7919)
			wg.Add(1)
			go func() {
				defer wg.Done()
				f, err := os.Create(filepath.Join(dir, fmt.Sprintf("w%d", i)))
				if err != nil {
					errs[i] = err
					return
				}
				for off := 0; off < len(datas[i]); off += 64 << 10 {
					if _, err := f.Write(datas[i][off:min(off+64<<10, len(datas[i]))]); err != nil {
						errs[i] = err
						break
					}
				}
				if err := f.Close(); err != nil && errs[i] == nil {
					errs[i] = err
				}
			}()
		}
		wg.Wait()
		for i := range datas {
			if errs[i] != nil {
				t.Fatalf("writer %d: %v", i, errs[i])
			}
			got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("w%d", i)))
			if err != nil || string(got) != string(datas[i]) {
				t.Errorf("w%d: %d bytes, %v", i, len(got), err)
			}
		}
	})
}
