package writeback

import (
	"crypto/rand"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/pithosfs/pithosfs/pithos/hashmap"
	"github.com/pithosfs/pithosfs/pithos/object"
)

// Early uploads: while a sequential writer fills blocks, batches of them are
// hashed, probed and uploaded in the background, so that close() has little
// left to send (Config.EagerUploads).

// eagerBatch is how many filled blocks one early-upload round covers. With
// Config.EagerUploads rounds at once the writer's working set is about
// (EagerUploads+1)·eagerBatch blocks: 4 keeps it at ~48 MiB (8 made it the
// whole dirty budget, each block out of the CPU's cache by the time its
// round hashed and sent it, and more buffers faulted in; 2 made the rounds'
// probes and hand-offs cost more than that saved).
const eagerBatch = 4

// ProbeName is the object name of the existence probes of early uploads. A
// probe never creates it: its hashmap always lists one block that does not
// exist, so the server answers 409 with the missing hashes and changes
// nothing.
const ProbeName = ".pithosfs-probe"

// eagerUpload uploads, in the background, those of the filled dirty blocks
// idxs of f that the server lacks: it seals them (a write now copies them),
// hashes them, asks the server which it lacks with one probe (a hashmap PUT
// bound to fail), uploads those in parallel, and keeps each block as a
// stored block in a journal file, freeing its memory. The commit then neither
// hashes nor sends them. At most Config.EagerUploads rounds run at once; the
// writer waits for a free one, and a writer short of memory waits for the
// file's rounds (File.newBlock), so a sequential writer runs at the upload's
// pace with bounded memory. A block written, truncated or committed
// meanwhile is left to the commit, which still uploads exactly what the
// server lacks.
func (m *Manager) eagerUpload(f *File, idxs []int64) {
	if m.eager == nil || len(idxs) == 0 {
		return
	}
	select {
	case m.eager <- struct{}{}:
	case <-m.ctx.Done():
		return
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		<-m.eager
		return
	}
	m.wg.Add(1)
	m.mu.Unlock()
	items := f.seal(idxs)
	if len(items) == 0 {
		<-m.eager
		m.wg.Done()
		return
	}
	go func() {
		defer m.wg.Done()
		defer func() { <-m.eager }()
		err := m.eagerRound(f, items)
		f.unseal(items)
		if err != nil {
			m.log.Debug("writeback: early block upload failed (the commit will upload them)", "error", err)
		}
	}()
}

// eagerReadBack reserves n bytes of the budget for an early-upload round to
// read a spilled block back into, and reports whether it did (charged) and
// whether the round may read the block back (ok): only when the budget has
// the room (or there is no budget). A round is background work, and a
// block it leaves is the commit's to hash and upload (within its read-back
// slots, readback.go). Until session 11 rounds charged every read-back past
// a full budget (Budget.Charge): under 16 writers and 16 readers the
// writers spilled blocks for lack of room and their rounds read them
// straight back, 16–28 MiB past the budget's limit, the largest part of the
// mixed load's peaks over it (docs/comparison.md, "Session 11 — mem11").
func (m *Manager) eagerReadBack(n int64) (charged, ok bool) {
	if m.budget == nil {
		return false, true
	}
	ok = m.budget.TryReserve(n)
	return ok, ok
}

// sealedBlock is one block of an early-upload round.
type sealedBlock struct {
	i    int64
	b    *block
	data []byte // its content (BlockSize bytes)
	// back is the buffer a spilled block was read back into (eagerRound).
	back heldReadBack
	hash string
	mem  bool   // it was in memory when sealed (else in a journal file)
	file string // the journal file the round wrote for it ("" = none)
	done bool   // the server has it
}

// seal marks the dirty blocks idxs that are plain (not frozen, sealed or
// stored) as sealed, counts a round in flight and returns them.
func (f *File) seal(idxs []int64) []*sealedBlock {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gone {
		return nil
	}
	var items []*sealedBlock
	for _, i := range idxs {
		b := f.dirty[i]
		if b == nil || b.frozen || b.sealed || b.stored {
			continue
		}
		b.sealed = true
		items = append(items, &sealedBlock{i: i, b: b, data: b.data, mem: b.data != nil})
	}
	if len(items) > 0 {
		f.rounds++
		if f.roundWake == nil {
			f.roundWake = make(chan struct{})
		}
	}
	return items
}

// unseal ends a round: each block the server now holds and that is still
// the file's dirty block i becomes a stored block (in the round's journal
// file; its memory is freed); a block replaced meanwhile is dropped; the
// round's journal slots nobody uses are released.
func (f *File) unseal(items []*sealedBlock) {
	f.mu.Lock()
	for _, it := range items {
		b := it.b
		b.sealed = false
		f.settleName(it.file)
		switch {
		case f.gone || b.frozen:
			// Discarded, or a commit took it: its snapshot owns it.
		case f.dirty[it.i] != b:
			f.drop(b) // replaced by a write (or truncated): nobody else holds it
		case it.done && (it.file != "" || !it.mem):
			if it.file != "" {
				b.file = it.file
				it.file = ""
			}
			// The round is over: no upload or journal copy reads the
			// buffer any more.
			f.recycleMem(b)
			b.hash, b.stored = it.hash, true
		}
		f.release(it.file) // not kept by the block: nothing names it
	}
	f.rounds--
	close(f.roundWake)
	f.roundWake = make(chan struct{})
	f.mu.Unlock()
}

// waitRounds waits until no early-upload round of f is in flight.
func (f *File) waitRounds() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.rounds > 0 {
		w := f.roundWake
		f.mu.Unlock()
		<-w
		f.mu.Lock()
	}
}

// eagerRound hashes the sealed blocks, probes which the server lacks,
// uploads those and writes each in-memory block to a journal file; it marks
// the blocks the server then holds as done.
func (m *Manager) eagerRound(f *File, items []*sealedBlock) error {
	ctx, stop := m.stallBound(m.ctx)
	defer stop()
	b := f.Base()
	f.mu.Lock()
	dir := f.dir
	f.mu.Unlock()
	bs := b.BlockSize
	hashes := make([]string, 0, len(items)+1)
	byHash := map[string][]*sealedBlock{}
	// Spilled blocks are read back into buffers of the cache's free list,
	// within the budget's room (eagerReadBack), and given back when the
	// round is over: a fresh 4 MiB copy each was 16–24 MB of the mixed
	// load's peak (session 8).
	var backs []*sealedBlock
	defer func() {
		for _, it := range backs {
			m.giveBack(it.back, b.BlockSize)
			it.data, it.back = nil, heldReadBack{}
		}
	}()
	for _, it := range items {
		if it.data == nil {
			// Spilled: read back only into room the budget has, else left
			// to the commit (eagerReadBack).
			charged, ok := m.eagerReadBack(b.BlockSize)
			if !ok {
				continue
			}
			// Its file is immutable while the block is sealed.
			f.mu.Lock()
			name := it.b.file
			f.mu.Unlock()
			it.back = heldReadBack{charged: charged, buf: m.buffer(b.BlockSize)[:b.BlockSize]}
			backs = append(backs, it)
			if err := refOf(dir, name, bs).read(it.back.buf, 0); err != nil {
				return err
			}
			it.data = it.back.buf
		}
		it.hash = hashmap.BlockHashHex(it.data)
		if _, ok := byHash[it.hash]; !ok {
			hashes = append(hashes, it.hash)
		}
		byHash[it.hash] = append(byHash[it.hash], it)
	}
	if len(hashes) == 0 {
		return nil // every block spilled and no room to read one back
	}
	var nonce [32]byte
	_, _ = rand.Read(nonce[:])
	hashes = append(hashes, hashmap.BlockHashHex(nonce[:])) // never stored: the probe always fails
	bh := b.BlockHash
	if bh == "" {
		bh = hashmap.DefaultBlockHash
	}
	hm := &hashmap.Map{BlockSize: b.BlockSize, BlockHash: bh, Bytes: int64(len(hashes)) * b.BlockSize, Hashes: hashes}
	res, missing, err := m.cfg.Client.PutHashmap(ctx, b.Container, ProbeName, hm, object.PutOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return err
	}
	if res != nil {
		return fmt.Errorf("writeback: the block probe %s/%s was stored", b.Container, ProbeName)
	}
	lacking := map[string]bool{}
	for _, h := range missing {
		lacking[strings.ToLower(h)] = true
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(eagerParallel)
	for h, its := range byHash {
		g.Go(func() error {
			if lacking[h] {
				if err := m.cfg.Client.UploadHashedBlock(ctx, b.Container, h, its[0].data); err != nil {
					return err
				}
				m.stats.blocksUploaded.Add(1)
				m.stats.bytesUploaded.Add(int64(len(its[0].data)))
				m.stats.early.Add(1)
			}
			for _, it := range its {
				if it.mem {
					// Keep a local copy until the commit: the server has
					// no way to read a block back before an object uses it.
					name, err := f.newFileName()
					if err != nil {
						return err
					}
					// The round's from now: unseal settles the name (and
					// releases the slot unless the block keeps it), also
					// when the write fails.
					it.file = name
					if err := refOf(dir, name, bs).put(it.data); err != nil {
						return err
					}
				}
				it.done = true
			}
			return nil
		})
	}
	return g.Wait()
}

// eagerParallel bounds the block uploads of one early-upload round.
const eagerParallel = 8
