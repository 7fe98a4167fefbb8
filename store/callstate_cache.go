package store

import (
	"container/list"
	"sync"
)

// callStateCache keeps the latest state of recently written calls in
// memory, so that the next webhook of a call does not read back what this
// process wrote a moment ago. It is written through: an entry is put only
// after its write committed, so it never holds what the database does not.
//
// Only the SQLite back end has one (a nil cache holds nothing): the file's lock (Open) makes this
// process the only writer, so no write can bypass the cache. With
// PostgreSQL several instances write and every read goes to the database.
//
// Entries are put by writes only, never by reads: a read racing a delete
// could otherwise bring a deleted state back. Puts are ordered by version
// (a slow writer's older state never replaces a newer one) and by
// generation (a put that began before an invalidation drops the entry
// instead).
type callStateCache struct {
	mu       sync.Mutex
	entries  map[string]*list.Element // of *cachedState
	lru      list.List                // front: most recently used
	bytes    int
	maxBytes int
	gen      uint64
}

type cachedState struct {
	callID  string
	data    []byte
	version int64
}

// callStateCacheBytes bounds the cache: some thousands of calls of a few
// kilobytes, far more than are in progress at once on one instance.
const callStateCacheBytes = 16 << 20

func newCallStateCache(maxBytes int) *callStateCache {
	return &callStateCache{entries: map[string]*list.Element{}, maxBytes: maxBytes}
}

// generation is read before a write; put gets it back.
func (c *callStateCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// get returns a copy of the cached state of callID, if any.
func (c *callStateCache) get(callID string) (data []byte, version int64, ok bool) {
	if c == nil {
		return nil, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[callID]
	if el == nil {
		return nil, 0, false
	}
	c.lru.MoveToFront(el)
	s := el.Value.(*cachedState)
	return append([]byte(nil), s.data...), s.version, true
}

// put records that callID's state is data at version, as committed by a
// write that began at generation gen.
func (c *callStateCache) put(gen uint64, callID string, data []byte, version int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[callID]
	if gen != c.gen { // an invalidation came between: the entry may be stale
		if el != nil {
			c.remove(el)
		}
		return
	}
	if el != nil {
		s := el.Value.(*cachedState)
		if s.version >= version {
			return
		}
		c.bytes += len(data) - len(s.data)
		s.data, s.version = append([]byte(nil), data...), version
		c.lru.MoveToFront(el)
	} else {
		c.entries[callID] = c.lru.PushFront(&cachedState{callID: callID, data: append([]byte(nil), data...), version: version})
		c.bytes += len(data)
	}
	for c.bytes > c.maxBytes && c.lru.Len() > 0 {
		c.remove(c.lru.Back())
	}
}

// forget drops callID's entry and makes puts begun before it void.
func (c *callStateCache) forget(callID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if el := c.entries[callID]; el != nil {
		c.remove(el)
	}
}

// clear drops every entry and makes puts begun before it void.
func (c *callStateCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
	c.lru.Init()
	c.bytes = 0
}

func (c *callStateCache) remove(el *list.Element) {
	s := c.lru.Remove(el).(*cachedState)
	delete(c.entries, s.callID)
	c.bytes -= len(s.data)
}
