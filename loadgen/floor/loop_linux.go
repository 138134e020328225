//go:build linux

package floor

import (
	"bytes"
	"strconv"
	"syscall"

	"github.com/roomring/roomring/node/wsframe"
)

// loop reads every connection: it waits in epoll_wait itself, reads a
// readable socket until it would block, answers its requests and closes
// the connections that end. It is the only goroutine that closes
// descriptors or changes room membership.
func (s *Server) loop() {
	events := make([]syscall.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	for {
		n, err := syscall.EpollWait(s.ep, events, 100)
		select {
		case <-s.done:
			return
		default:
		}
		if err != nil {
			continue // EINTR
		}
		for _, ev := range events[:n] {
			s.mu.Lock()
			m := s.members[ev.Fd]
			s.mu.Unlock()
			if m == nil || m.seq != ev.Pad {
				continue // closed, its descriptor perhaps reused
			}
			if ev.Events&syscall.EPOLLOUT != 0 {
				m.flush()
			}
			if ev.Events&(syscall.EPOLLIN|syscall.EPOLLHUP|syscall.EPOLLERR|syscall.EPOLLRDHUP) != 0 {
				if !s.read(m, buf) {
					s.drop(m)
				}
			}
		}
	}
}

// read reads m until its socket would block and handles the frames; false
// when the connection ended or broke the protocol.
func (s *Server) read(m *member, buf []byte) bool {
	m.mu.Lock()
	fd, dead := m.fd, m.dead
	m.mu.Unlock()
	if fd < 0 || dead {
		return false
	}
	for {
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			return true
		}
		if err != nil || n <= 0 {
			return false
		}
		data := buf[:n]
		if len(m.in) > 0 {
			m.in = append(m.in, data...)
			data = m.in
		}
		rest, ok := s.frames(m, data)
		if !ok {
			return false
		}
		m.in = append(m.in[:0], rest...)
		if len(m.in) == 0 {
			m.in = nil
		}
	}
}

// frames handles the whole frames at the start of b and returns the rest.
func (s *Server) frames(m *member, b []byte) ([]byte, bool) {
	for len(b) > 0 {
		f, n, need, err := wsframe.Parse(b, true, s.cfg.MaxFrame)
		if err != nil {
			return nil, false
		}
		if need > 0 {
			return b, true
		}
		b = b[n:]
		switch {
		case !f.Fin:
			return nil, false // the load generator does not fragment
		case f.Op == wsframe.OpText:
			s.request(m, f.Payload)
		case f.Op == wsframe.OpPing:
			m.send(wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Op: wsframe.OpPong}, f.Payload), s.cfg.MaxBacklog)
		case f.Op == wsframe.OpClose:
			m.send(wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Op: wsframe.OpClose}, nil), s.cfg.MaxBacklog)
			return nil, false
		}
	}
	return nil, true
}

// request answers one venueless request; room.schedule is also queued as
// the room's broadcast: the request without its id.
func (s *Server) request(m *member, p []byte) {
	kind, rest := splitKind(p)
	id, idLen, hasID := requestID(rest)
	switch string(kind) {
	case "authenticate":
		s.reply(m, []byte(`["authenticated",{}]`))
		return
	case "room.enter", "room.leave", "room.react", "room.schedule":
	default:
		if hasID {
			s.reply(m, append(strconv.AppendInt([]byte(`["error",`), id, 10), `,{"code":"floor.unknown_action"}]`...))
		}
		return
	}
	if !hasID {
		return
	}
	r := s.room(stringAfter(rest, `"room":"`), string(kind) == "room.enter")
	ok := true
	switch string(kind) {
	case "room.enter":
		if m.rooms == nil {
			m.rooms = map[*room]struct{}{}
		}
		if _, in := m.rooms[r]; !in {
			m.rooms[r] = struct{}{}
			r.add(m)
		}
	case "room.leave":
		if r != nil {
			if _, in := m.rooms[r]; in {
				delete(m.rooms, r)
				r.remove(m)
			}
		}
	case "room.schedule":
		push := append([]byte(`["room.schedule"`), rest[1+idLen:]...)
		ok = r != nil && s.fan.post(r, wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Op: wsframe.OpText}, push))
		if ok {
			s.broadcasts.Add(1)
		}
	}
	out := []byte(`["success",`)
	if !ok {
		out = []byte(`["error",`)
	}
	out = strconv.AppendInt(out, id, 10)
	if ok {
		out = append(out, ",{}]"...)
	} else {
		out = append(out, `,{"code":"floor.unavailable"}]`...)
	}
	s.reply(m, out)
}

func (s *Server) reply(m *member, payload []byte) {
	m.send(wsframe.AppendFrame(make([]byte, 0, len(payload)+4), wsframe.Header{Fin: true, Op: wsframe.OpText}, payload),
		s.cfg.MaxBacklog)
}

// room returns the room id, creating it when create is set (nil otherwise
// when there is none).
func (s *Server) room(id string, create bool) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[id]
	if r == nil && create {
		r = &room{}
		s.rooms[id] = r
	}
	return r
}

// drop closes m: out of its rooms, out of the table, its descriptor closed.
func (s *Server) drop(m *member) {
	for r := range m.rooms {
		r.remove(m)
	}
	m.rooms, m.in = nil, nil
	s.mu.Lock()
	m.mu.Lock()
	fd := m.fd
	m.mu.Unlock()
	if fd >= 0 && s.members[int32(fd)] == m {
		delete(s.members, int32(fd))
		s.conns.Add(-1)
	}
	m.close()
	s.mu.Unlock()
}

// splitKind splits `["kind",...]` into kind and what follows it.
func splitKind(p []byte) (kind, rest []byte) {
	if len(p) < 4 || p[0] != '[' || p[1] != '"' {
		return nil, nil
	}
	j := bytes.IndexByte(p[2:], '"')
	if j < 0 {
		return nil, nil
	}
	return p[2 : 2+j], p[3+j:]
}

// requestID reads ",<id>" at the start of rest and its length in digits.
func requestID(rest []byte) (id int64, n int, ok bool) {
	if len(rest) < 2 || rest[0] != ',' {
		return 0, 0, false
	}
	for n = 1; n < len(rest) && n < 19 && rest[n] >= '0' && rest[n] <= '9'; n++ {
		id = id*10 + int64(rest[n]-'0')
	}
	return id, n - 1, n > 1
}

// stringAfter returns the JSON string (not unescaped) that follows key.
func stringAfter(b []byte, key string) string {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	v := b[i+len(key):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return ""
	}
	return string(v[:j])
}
