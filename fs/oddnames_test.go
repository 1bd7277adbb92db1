package fs

import (
	"strings"
	"syscall"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestNewNameNotUTF8: a new name that is not UTF-8 (create, mkdir, a
// rename's target) is EILSEQ and nothing is made. Object names are UTF-8:
// the file used to be made, then listed as "new\uFFFDname" and found by
// neither name, and opening its name again with O_CREAT made a new file
// whose commit became a conflict copy.
func TestNewNameNotUTF8(t *testing.T) {
	h := newHarness(t, 0)
	const bad = "new\xffname"
	if _, _, errno := h.create(rootID, bad, syscall.O_WRONLY); errno != syscall.EILSEQ {
		t.Errorf("create %q: %v, want EILSEQ", bad, errno)
	}
	if _, errno := h.mkdir(rootID, bad); errno != syscall.EILSEQ {
		t.Errorf("mkdir %q: %v, want EILSEQ", bad, errno)
	}
	if errno := h.writeFile(rootID, "ok", "x"); errno != 0 {
		t.Fatal(errno)
	}
	if errno := h.rename(rootID, "ok", rootID, bad, 0); errno != syscall.EILSEQ {
		t.Errorf("rename to %q: %v, want EILSEQ", bad, errno)
	}
	if names := h.names(); len(names) != 1 || names[0] != "ok" {
		t.Errorf("objects: %q, want only ok", names)
	}
	if errno := h.writeFile(rootID, "caf\u00e9 \u29f8 100%", "y"); errno != 0 {
		t.Errorf("a UTF-8 name with %% and the escape mark inside: %v", errno)
	}
}

// TestCommitFailureLogsObjectPath: a created file whose commit fails logs
// its path once, as ACCOUNT/CONTAINER/NAME (it was logged with the account
// twice).
func TestCommitFailureLogsObjectPath(t *testing.T) {
	h := newHarness(t, 0)
	core, logs := observer.New(zapcore.WarnLevel)
	h.sys.log = zap.New(core)
	node, fh, errno := h.create(rootID, "f", syscall.O_WRONLY)
	if errno != 0 {
		t.Fatal(errno)
	}
	if errno := h.write(node, fh, 0, "mine"); errno != 0 {
		t.Fatal(errno)
	}
	h.put("f", "theirs") // another writer made it meanwhile: the create's commit (If-None-Match: *) fails
	if errno := h.close(node, fh); errno != syscall.EIO {
		t.Fatalf("close after a concurrent create: %v, want EIO (a conflict copy)", errno)
	}
	var paths []string
	for _, e := range logs.FilterMessage("fs: commit failed").All() {
		paths = append(paths, e.ContextMap()["path"].(string))
	}
	want := testOwner + "/" + testCont + "/f"
	if len(paths) != 1 || paths[0] != want {
		t.Errorf("commit failure logged with paths %q, want [%q]", paths, want)
	}
	if strings.Count(strings.Join(paths, ""), testOwner) > 1 {
		t.Errorf("the account is logged twice: %q", paths)
	}
}
