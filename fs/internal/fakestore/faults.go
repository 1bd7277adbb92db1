package fakestore

import (
	"fmt"
	"sync"

	"github.com/pithosfs/pithosfs/synnefo/fault"
)

// Call is one call of the Store as fault rules see it: the method (a
// Store method's name; ReadRange and ReadRangeInto are both "ReadRange",
// CommitHashmap's rounds are "PutHashmap" and "UploadHashedBlock" calls of
// their own) and the object it names.
type Call struct {
	Op, Account, Container, Name string
}

// Rule fails calls: those of method Op ("" any) that Match picks (nil:
// all), only the Nth such call when Nth > 0 (1 = the first), at most Times
// times when Times > 0, with Err. Do, when set, runs before a picked call
// (outside every lock of the fake, so it may use the Store: another writer
// acting between two requests of the mount); with Err nil the call then
// proceeds.
type Rule struct {
	Op    string
	Match func(Call) bool
	Nth   int
	Times int
	Err   error
	Do    func(Call)

	seen, fired int
}

// Faults is the failure injection of a Cloud: every Store call passes
// through check, which fails it with the first rule that picks it, and
// counts it. Safe for concurrent use.
type Faults struct {
	mu    sync.Mutex
	rules []*Rule
	calls map[string]int
}

// Add adds a rule and returns it (Fired says how often it fired).
func (f *Faults) Add(r Rule) *Rule {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, &r)
	return f.rules[len(f.rules)-1]
}

// FailNth fails the nth call of op with err.
func (f *Faults) FailNth(op string, n int, err error) *Rule {
	return f.Add(Rule{Op: op, Nth: n, Err: err})
}

// FailAll fails every call of op ("" any) with err until Clear.
func (f *Faults) FailAll(op string, err error) *Rule { return f.Add(Rule{Op: op, Err: err}) }

// Clear removes every rule (the counts of calls stay).
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

// Calls returns how many calls of op ("" all) were made, failed or not.
func (f *Faults) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if op == "" {
		n := 0
		for _, c := range f.calls {
			n += c
		}
		return n
	}
	return f.calls[op]
}

// Fired returns how often the rule picked a call (failed it, or ran its
// Do).
func (f *Faults) Fired(r *Rule) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return r.fired
}

// check counts c, runs the Do of the rule that picks it and returns its
// error.
func (f *Faults) check(c Call) error {
	r := f.pick(c)
	if r == nil {
		return nil
	}
	if r.Do != nil {
		r.Do(c)
	}
	return r.Err
}

// pick counts c and returns the first rule that fires for it.
func (f *Faults) pick(c Call) *Rule {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[c.Op]++
	for _, r := range f.rules {
		if (r.Op != "" && r.Op != c.Op) || (r.Match != nil && !r.Match(c)) {
			continue
		}
		r.seen++
		if (r.Nth > 0 && r.seen != r.Nth) || (r.Times > 0 && r.fired >= r.Times) {
			continue
		}
		r.fired++
		return r
	}
	return nil
}

// Unreachable is the error of a call that got no reply (a refused
// connection): fault.ErrUnreachable and fault.ErrUnavailable, as the
// client's.
func Unreachable() error {
	return fmt.Errorf("fakestore: dial tcp: connection refused: %w (%w)", fault.ErrUnreachable, fault.ErrUnavailable)
}
