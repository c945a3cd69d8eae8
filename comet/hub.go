package comet

import (
	"sync"
)

// Hub fans messages out to groups of sessions. A broadcast is encoded
// once and the same bytes are queued for every member, whatever its
// transport. Sessions leave their groups when they end.
type Hub struct {
	mu     sync.RWMutex
	groups map[string]map[*Session]struct{}
}

// NewHub returns an empty Hub.
func NewHub() *Hub { return &Hub{groups: map[string]map[*Session]struct{}{}} }

// Join adds s to group until s ends or Leave is called.
func (h *Hub) Join(s *Session, group string) {
	h.mu.Lock()
	g := h.groups[group]
	if g == nil {
		g = map[*Session]struct{}{}
		h.groups[group] = g
	}
	_, already := g[s]
	g[s] = struct{}{}
	h.mu.Unlock()
	if !already {
		go func() {
			<-s.Done()
			h.Leave(s, group)
		}()
	}
}

// Leave removes s from group.
func (h *Hub) Leave(s *Session, group string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if g := h.groups[group]; g != nil {
		delete(g, s)
		if len(g) == 0 {
			delete(h.groups, group)
		}
	}
}

// Len returns the number of sessions in group.
func (h *Hub) Len(group string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.groups[group])
}

// Broadcast queues data for every session in group, encoding it once. It
// never blocks on a slow client: a session whose queue is full misses
// this message and is counted in dropped (its client is not acknowledging;
// the application may close it).
func (h *Hub) Broadcast(group, data string) (queued, dropped int) {
	return h.BroadcastPrepared(group, Prepare(data))
}

// BroadcastPrepared is Broadcast for any prepared message. A session whose
// dialect cannot carry it (an event to plain Engine.IO) counts as dropped.
func (h *Hub) BroadcastPrepared(group string, p *Prepared) (queued, dropped int) {
	h.mu.RLock()
	members := make([]*Session, 0, len(h.groups[group]))
	for s := range h.groups[group] {
		members = append(members, s)
	}
	h.mu.RUnlock()
	for _, s := range members {
		if s.trySend(p) {
			queued++
		} else {
			dropped++
		}
	}
	return queued, dropped
}

// trySend queues p without waiting.
func (s *Session) trySend(p *Prepared) bool {
	if s.canCarry(p) != nil {
		return false
	}
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return false
	default:
	}
	if len(s.out) >= s.srv.opts.QueueLen {
		s.mu.Unlock()
		return false
	}
	s.nextSeq++
	s.out = append(s.out, outMsg{s.nextSeq, p})
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return true
}
