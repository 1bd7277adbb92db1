// The history views in .pithosfs (fs/history): their configuration, and the
// restore of a version onto a file of the mount by server-side copy.

package fs

import (
	"context"
	"errors"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"go.uber.org/zap"

	"github.com/pithosfs/pithosfs/fs/history"
	"github.com/pithosfs/pithosfs/fs/writeback"
	"github.com/pithosfs/pithosfs/pithos"
	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// histAccount is the account the history views show: the mount's
// remote's, else the user's own.
func (s *fsys) histAccount() *account {
	if r := s.cfg.Remote; r.Account != "" && r.Account != s.self.uuid {
		return s.accountFor(r.Account, "")
	}
	return s.self
}

func (s *fsys) historyViews() *history.Views {
	return history.New(history.Config{
		Client: s.histAccount().client, Cache: s.cache,
		Container: s.cfg.Remote.Container, Prefix: s.cfg.Remote.Prefix,
		UID: s.cfg.UID, GID: s.cfg.GID, TTL: s.cfg.AttrTTL, Readahead: s.cfg.Readahead,
		Log: s.log.Named("history"), Errno: s.fail, Restore: s.restore,
	})
}

// restore copies version src onto the file out, open for writing as fhOut
// (cp VERSION FILE: copy_file_range), server-side: a copy with the version
// as source, which the open file then adopts as its content, so nothing is
// left to commit at close. Only a file with nothing of its own (new or
// truncated, not written) of the same account takes a copy; otherwise
// EXDEV, and cp copies the bytes itself. The copy brings the version's
// metadata (content type, mode and times) along.
func (s *fsys) restore(ctx context.Context, src pithos.ObjectVersion, hm *pithos.Hashmap, out *gofs.Inode, fhOut gofs.FileHandle) (int64, syscall.Errno) {
	h, ok := fhOut.(*writeHandle)
	if !ok || h.acct != s.histAccount() {
		return 0, syscall.EXDEV
	}
	if f, ok := out.Operations().(*fileNode); !ok || f != h.f {
		return 0, syscall.EXDEV
	}
	unlock := h.wf.LockCommits()
	defer unlock()
	b := h.wf.Base()
	if !h.wf.Empty() || (hm != nil && (b.Swift || hm.BlockSize != b.BlockSize)) || (hm == nil && !b.Swift) {
		return 0, syscall.EXDEV
	}
	client := h.acct.client
	path := b.Container + "/" + b.Name
	cond := pithos.Conditions{IfMatch: b.ETag}
	switch {
	case b.Swift:
		// Swift's copy takes neither If-Match nor If-None-Match: check by
		// HEAD, as commits do.
		info, err := client.ObjectInfo(ctx, b.Container, b.Name, pithos.GetOptions{})
		if err != nil && (b.ETag != "" || !errors.Is(err, fault.ErrNotFound)) {
			return 0, s.fail("restore", path, err)
		}
		if (b.ETag == "") != (err != nil) || (err == nil && info.ETag != b.ETag) {
			return 0, syscall.EXDEV // changed behind the mount: cp copies, the commit keeps a conflict copy
		}
		cond = pithos.Conditions{}
	case b.ETag == "":
		cond = pithos.Conditions{IfNoneMatch: "*"}
	}
	if _, err := client.RestoreVersion(context.WithoutCancel(ctx), src, b.Container, b.Name, cond); err != nil {
		return 0, s.fail("restore", path, err)
	}
	info, err := client.ObjectInfo(ctx, b.Container, b.Name, pithos.GetOptions{})
	if err != nil {
		return 0, s.fail("restore", path, err)
	}
	nb := writeback.Base{Container: b.Container, Name: b.Name, ETag: info.ETag, Version: info.Version,
		BlockSize: b.BlockSize, BlockHash: b.BlockHash, Size: info.Bytes, ContentType: info.ContentType,
		Meta: info.Meta, Swift: b.Swift}
	if hm != nil {
		nb.Hashes = hm.Hashes
	}
	if !h.wf.Adopt(nb) {
		// Written meanwhile through another handle: that commit will find
		// the copy (If-Match) and keep its data as a conflict copy.
		s.log.Warn("fs: restored a version onto a file written meanwhile", zap.String("path", path))
		return 0, syscall.EIO
	}
	h.f.refresh(info)
	return info.Bytes, 0
}
