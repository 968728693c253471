package blink

import "time"

// Pipe queues commands and sends them in one write with Exec; the replies come
// back in order, one Result each. Make one with Client.Pipeline. A Pipe is for
// one goroutine; Exec holds the client's lock while it runs, so other
// goroutines' requests never interleave with it.
//
//	p := c.Pipeline()
//	p.Set("user:1", []byte("alice"))
//	p.Expire("user:1", time.Minute)
//	p.Get("user:1")
//	results, err := p.Exec()
type Pipe struct {
	c    *Client
	cmds []command
}

// Pipeline returns an empty Pipe on c.
func (c *Client) Pipeline() *Pipe { return &Pipe{c: c} }

// Set queues a SET.
func (p *Pipe) Set(key string, value []byte) { p.cmds = append(p.cmds, p.c.set(key, value)) }

// Get queues a GET; its Result has Value, or Err ErrNotFound.
func (p *Pipe) Get(key string) { p.cmds = append(p.cmds, p.c.get(key)) }

// Delete queues a DELETE; its Result has Err ErrNotFound if the key was absent.
func (p *Pipe) Delete(key string) { p.cmds = append(p.cmds, p.c.keyCommand("DELETE", key)) }

// Usage queues a USAGE; its Result has Usage.
func (p *Pipe) Usage() { p.cmds = append(p.cmds, command{name: "USAGE"}) }

// Ping queues a PING.
func (p *Pipe) Ping() { p.cmds = append(p.cmds, command{name: "PING"}) }

// Expire queues an EXPIRE, with ttl rounded up to whole seconds as in
// Client.Expire.
func (p *Pipe) Expire(key string, ttl time.Duration) {
	p.cmds = append(p.cmds, p.c.expire(key, ttl))
}

// TTL queues a TTL; its Result has TTL, or Err ErrNotFound.
func (p *Pipe) TTL(key string) { p.cmds = append(p.cmds, p.c.keyCommand("TTL", key)) }

// Persist queues a PERSIST.
func (p *Pipe) Persist(key string) { p.cmds = append(p.cmds, p.c.keyCommand("PERSIST", key)) }

// Info queues an INFO; its Result has Info.
func (p *Pipe) Info() { p.cmds = append(p.cmds, command{name: "INFO"}) }

// Len is the number of queued commands.
func (p *Pipe) Len() int { return len(p.cmds) }

// Exec sends the queued commands and returns one Result per command, in order,
// each with Err nil, ErrNotFound or a *ServerError. The error is for what stops
// the whole pipeline: a key or value refused before sending (then nothing is
// sent), or a connection failure (then some commands may have been carried out).
// Exec empties the Pipe, so it can be filled again.
func (p *Pipe) Exec() ([]Result, error) {
	cmds := p.cmds
	p.cmds = nil
	if len(cmds) == 0 {
		return nil, nil
	}
	return p.c.run(cmds)
}
