package blink_test

// These tests talk to a running server: set BLINK_ADDR (host:port) and
// BLINK_SOCKET (a Unix socket path) to where it listens. Without them the
// tests that need a server are skipped.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/blink"
)

type endpoint struct{ network, address string }

// endpoints lists the transports the environment names, skipping the test if
// it names none.
func endpoints(t *testing.T) []endpoint {
	t.Helper()
	var eps []endpoint
	if addr := os.Getenv("BLINK_ADDR"); addr != "" {
		eps = append(eps, endpoint{"tcp", addr})
	}
	if path := os.Getenv("BLINK_SOCKET"); path != "" {
		eps = append(eps, endpoint{"unix", path})
	}
	if len(eps) == 0 {
		t.Skip("no server: set BLINK_ADDR and BLINK_SOCKET to a running Blink Store")
	}
	return eps
}

// eachTransport runs f once per transport, with a fresh client.
func eachTransport(t *testing.T, f func(t *testing.T, c *blink.Client)) {
	for _, ep := range endpoints(t) {
		ep := ep
		t.Run(ep.network, func(t *testing.T) {
			f(t, dial(t, ep.network, ep.address, blink.Options{}))
		})
	}
}

func dial(t *testing.T, network, address string, opts blink.Options) *blink.Client {
	t.Helper()
	c, err := blink.DialOptions(network, address, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// key returns a key no other test uses.
func key(t *testing.T, name string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "go-test:" + name + ":" + hex.EncodeToString(b[:])
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, blink.ErrNotFound) {
		t.Fatalf("%s: got error %v, want ErrNotFound", what, err)
	}
}

func TestEveryCommand(t *testing.T) {
	eachTransport(t, func(t *testing.T, c *blink.Client) {
		k := key(t, "cmd")
		must(t, c.Ping())

		before, err := c.Usage()
		must(t, err)
		must(t, c.Set(k, []byte("hello world")))
		got, err := c.Get(k)
		must(t, err)
		if string(got) != "hello world" {
			t.Fatalf("Get = %q", got)
		}
		after, err := c.Usage()
		must(t, err)
		if want := before + int64(len(k)+len("hello world")); after != want {
			t.Fatalf("Usage = %d after SET, want %d", after, want)
		}

		must(t, c.Set(k, []byte("replaced")))
		if got, err = c.Get(k); err != nil || string(got) != "replaced" {
			t.Fatalf("Get after second Set = %q, %v", got, err)
		}

		info, err := c.Info()
		must(t, err)
		if info.Keys < 1 || info.Limit <= 0 || info.UsedBytes < int64(len(k)) || info.Hits < 2 ||
			info.Connections < 1 || info.Uptime < 0 || info.Fields["misses"] == "" {
			t.Fatalf("Info = %+v", info)
		}

		must(t, c.Delete(k))
		got, err = c.Get(k)
		wantNotFound(t, "Get after Delete", err)
		if got != nil {
			t.Fatalf("Get of a missing key returned %q", got)
		}
		wantNotFound(t, "second Delete", c.Delete(k))
		if after, err = c.Usage(); err != nil || after != before {
			t.Fatalf("Usage = %d, %v after Delete, want %d", after, err, before)
		}
	})
}

func TestExpiry(t *testing.T) {
	eachTransport(t, func(t *testing.T, c *blink.Client) {
		k := key(t, "ttl")
		must(t, c.Set(k, []byte("v")))
		ttl, err := c.TTL(k)
		must(t, err)
		if ttl != blink.NoExpiry {
			t.Fatalf("TTL of a fresh key = %v, want NoExpiry", ttl)
		}

		must(t, c.Expire(k, 100*time.Second))
		ttl, err = c.TTL(k)
		must(t, err)
		if ttl < 98*time.Second || ttl > 100*time.Second {
			t.Fatalf("TTL after Expire 100s = %v", ttl)
		}
		must(t, c.Persist(k))
		if ttl, err = c.TTL(k); err != nil || ttl != blink.NoExpiry {
			t.Fatalf("TTL after Persist = %v, %v", ttl, err)
		}

		// Part of a second rounds up, never down to "delete now".
		must(t, c.Expire(k, 1500*time.Millisecond))
		if ttl, err = c.TTL(k); err != nil || ttl < time.Second || ttl > 2*time.Second {
			t.Fatalf("TTL after Expire 1.5s = %v, %v", ttl, err)
		}
		// A plain SET clears the expiry.
		must(t, c.Set(k, []byte("again")))
		if ttl, err = c.TTL(k); err != nil || ttl != blink.NoExpiry {
			t.Fatalf("TTL after Set = %v, %v", ttl, err)
		}

		// Zero deletes at once.
		must(t, c.Expire(k, 0))
		_, err = c.Get(k)
		wantNotFound(t, "Get after Expire 0", err)

		missing := key(t, "missing")
		wantNotFound(t, "Expire of a missing key", c.Expire(missing, time.Minute))
		_, err = c.TTL(missing)
		wantNotFound(t, "TTL of a missing key", err)
		wantNotFound(t, "Persist of a missing key", c.Persist(missing))
	})
}

func TestKeyExpires(t *testing.T) {
	eps := endpoints(t)
	c := dial(t, eps[0].network, eps[0].address, blink.Options{})
	k := key(t, "expires")
	must(t, c.Set(k, []byte("short-lived")))
	must(t, c.Expire(k, time.Second))
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Get(k)
		if errors.Is(err, blink.ErrNotFound) {
			break
		}
		must(t, err)
		if time.Now().After(deadline) {
			t.Fatal("key with a 1 s TTL still there after 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// allBytes is every byte value except LF, ending in 0xff (not CR).
func allBytes() []byte {
	var v []byte
	for b := 0; b < 256; b++ {
		if b != '\n' {
			v = append(v, byte(b))
		}
	}
	return v
}

func TestBinaryValues(t *testing.T) {
	big := make([]byte, 512<<10)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	for i, b := range big {
		if b == '\n' {
			big[i] = 'n'
		}
	}
	values := map[string][]byte{
		"every byte but LF": allBytes(),
		"CR inside":         []byte("a\rb"),
		"spaces":            []byte("  leading, inner and trailing  "),
		"empty":             {},
		"512 KiB random":    big,
	}
	eachTransport(t, func(t *testing.T, c *blink.Client) {
		for name, v := range values {
			k := key(t, "bin")
			must(t, c.Set(k, v))
			got, err := c.Get(k)
			must(t, err)
			if !bytes.Equal(got, v) || got == nil {
				t.Fatalf("%s: Get returned %d bytes (nil: %v), want %d", name, len(got), got == nil, len(v))
			}
			must(t, c.Delete(k))
		}

		// A key may hold any byte above space except DEL, UTF-8 or not.
		for _, k := range []string{"ключ-" + key(t, "utf8"), "\x80\xfe\xff" + key(t, "high"), strings.Repeat("k", 1024)} {
			must(t, c.Set(k, []byte("v")))
			if got, err := c.Get(k); err != nil || string(got) != "v" {
				t.Fatalf("key %q: Get = %q, %v", k, got, err)
			}
			must(t, c.Delete(k))
		}
	})
}

func TestRefusedBeforeSending(t *testing.T) {
	eachTransport(t, func(t *testing.T, c *blink.Client) {
		k := key(t, "refused")
		for _, v := range [][]byte{[]byte("line\nbreak"), []byte("\n"), []byte("ends in CR\r"), []byte("a\r\nb")} {
			err := c.Set(k, v)
			if !errors.Is(err, blink.ErrInvalidValue) {
				t.Fatalf("Set(%q) = %v, want ErrInvalidValue", v, err)
			}
			if !strings.Contains(err.Error(), "line protocol cannot carry") {
				t.Fatalf("unclear message: %v", err)
			}
		}
		for _, bad := range []string{"", "a b", "tab\there", "nl\nx", "nul\x00", "del\x7f", " lead", strings.Repeat("k", 1025)} {
			if err := c.Set(bad, []byte("v")); !errors.Is(err, blink.ErrInvalidKey) {
				t.Fatalf("Set(key %q) = %v, want ErrInvalidKey", bad, err)
			}
			if _, err := c.Get(bad); !errors.Is(err, blink.ErrInvalidKey) {
				t.Fatalf("Get(key %q) = %v, want ErrInvalidKey", bad, err)
			}
		}
		// Nothing reached the server, and the connection is in step.
		_, err := c.Get(k)
		wantNotFound(t, "Get after refused Sets", err)
		must(t, c.Ping())
	})
}

func TestServerErrors(t *testing.T) {
	eachTransport(t, func(t *testing.T, c *blink.Client) {
		// The server's default value limit is 1 MiB.
		err := c.Set(key(t, "big"), bytes.Repeat([]byte("x"), 1<<20+1))
		var se *blink.ServerError
		if !errors.As(err, &se) || !strings.Contains(se.Message, "value too large") {
			t.Fatalf("Set of 1 MiB + 1 = %v, want a *ServerError about the size", err)
		}
		must(t, c.Ping())

		// A client told keys may be longer than the server allows.
		addr := c.Address()
		loose := dial(t, c.Network(), addr, blink.Options{MaxKeySize: 4096})
		err = loose.Set(strings.Repeat("k", 2000), []byte("v"))
		if !errors.As(err, &se) || se.Message != "key too long (max 1024 bytes)" {
			t.Fatalf("Set with a 2000-byte key = %v", err)
		}
		if err.Error() != "blink: server error: key too long (max 1024 bytes)" {
			t.Fatalf("message: %q", err.Error())
		}
		must(t, loose.Ping())
	})
}

func TestPipeline(t *testing.T) {
	eachTransport(t, func(t *testing.T, c *blink.Client) {
		k, missing := key(t, "pipe"), key(t, "pipe-missing")
		p := c.Pipeline()
		p.Ping()
		p.Set(k, allBytes())
		p.Get(k)
		p.Get(missing)
		p.Expire(k, time.Minute)
		p.TTL(k)
		p.Persist(k)
		p.TTL(k)
		p.Usage()
		p.Info()
		p.Delete(k)
		p.Delete(k)
		if p.Len() != 12 {
			t.Fatalf("Len = %d", p.Len())
		}
		rs, err := p.Exec()
		must(t, err)
		if len(rs) != 12 || p.Len() != 0 {
			t.Fatalf("%d results, %d left queued", len(rs), p.Len())
		}
		for i, r := range rs {
			switch i {
			case 3, 11:
				wantNotFound(t, fmt.Sprintf("result %d (%s)", i, r.Cmd), r.Err)
			default:
				if r.Err != nil {
					t.Fatalf("result %d (%s): %v", i, r.Cmd, r.Err)
				}
			}
		}
		if rs[2].Cmd != "GET" || rs[2].Key != k || !bytes.Equal(rs[2].Value, allBytes()) {
			t.Fatalf("GET result %+v", rs[2])
		}
		if rs[5].TTL < 58*time.Second || rs[5].TTL > time.Minute || rs[7].TTL != blink.NoExpiry {
			t.Fatalf("TTLs %v then %v", rs[5].TTL, rs[7].TTL)
		}
		if rs[8].Usage < int64(len(k)+255) || rs[9].Info == nil || rs[9].Info.Keys < 1 {
			t.Fatalf("USAGE %d, INFO %+v", rs[8].Usage, rs[9].Info)
		}

		// A refused command in the middle: the rest are carried out.
		loose := dial(t, c.Network(), c.Address(), blink.Options{MaxKeySize: 4096})
		p = loose.Pipeline()
		p.Set(k, []byte("before"))
		p.Get(strings.Repeat("k", 2000))
		p.Get(k)
		p.Delete(k)
		rs, err = p.Exec()
		must(t, err)
		var se *blink.ServerError
		if rs[0].Err != nil || !errors.As(rs[1].Err, &se) || string(rs[2].Value) != "before" || rs[3].Err != nil {
			t.Fatalf("results %+v", rs)
		}

		// An invalid value anywhere: nothing is sent.
		p = c.Pipeline()
		p.Set(missing, []byte("fine"))
		p.Set(missing, []byte("not\nfine"))
		if _, err := p.Exec(); !errors.Is(err, blink.ErrInvalidValue) {
			t.Fatalf("Exec with an LF value = %v", err)
		}
		_, err = c.Get(missing)
		wantNotFound(t, "Get after a refused pipeline", err)

		if rs, err := c.Pipeline().Exec(); err != nil || len(rs) != 0 {
			t.Fatalf("empty Exec = %v, %v", rs, err)
		}
	})
}

func TestLongPipeline(t *testing.T) {
	// More replies than socket buffers hold: the client reads while it writes.
	eachTransport(t, func(t *testing.T, c *blink.Client) {
		prefix := key(t, "long")
		value := bytes.Repeat([]byte("v"), 200)
		const n = 5000
		p := c.Pipeline()
		for i := 0; i < n; i++ {
			p.Set(fmt.Sprintf("%s:%d", prefix, i), value)
			p.Get(fmt.Sprintf("%s:%d", prefix, i))
		}
		rs, err := p.Exec()
		must(t, err)
		for i := 0; i < n; i++ {
			if rs[2*i].Err != nil || !bytes.Equal(rs[2*i+1].Value, value) {
				t.Fatalf("pair %d: %+v %+v", i, rs[2*i], rs[2*i+1])
			}
			p.Delete(fmt.Sprintf("%s:%d", prefix, i))
		}
		rs, err = p.Exec()
		must(t, err)
		for _, r := range rs {
			must(t, r.Err)
		}
	})
}

func TestConcurrentGoroutinesShareAClient(t *testing.T) {
	eachTransport(t, func(t *testing.T, c *blink.Client) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				k := key(t, fmt.Sprintf("g%d", g))
				for i := 0; i < 100; i++ {
					want := []byte(fmt.Sprintf("goroutine %d value %d", g, i))
					if err := c.Set(k, want); err != nil {
						errs <- err
						return
					}
					got, err := c.Get(k)
					if err != nil || !bytes.Equal(got, want) {
						errs <- fmt.Errorf("goroutine %d: Get = %q, %v; want %q", g, got, err, want)
						return
					}
				}
				if err := c.Delete(k); err != nil {
					errs <- err
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func TestDownServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	ln.Close()
	_, err = blink.Dial(addr)
	var ce *blink.ConnectError
	if !errors.As(err, &ce) || ce.Address != addr {
		t.Fatalf("Dial of a closed port = %v, want a *ConnectError", err)
	}
	want := "blink: cannot connect to Blink Store at " + addr + ": "
	if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("message %q, want %q...connection refused", err, want)
	}

	path := filepath.Join(t.TempDir(), "nothing.sock")
	_, err = blink.DialUnix(path)
	if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "blink: cannot connect to Blink Store at "+path+": ") {
		t.Fatalf("DialUnix of a missing socket = %v", err)
	}

	if _, err := blink.DialOptions("udp", addr, blink.Options{}); err == nil {
		t.Fatal("DialOptions accepted udp")
	}
}

// proxy forwards TCP connections to the server and can cut them all, as a
// server restart would.
type proxy struct {
	ln       net.Listener
	mu       sync.Mutex
	conns    []net.Conn
	accepted int
}

func startProxy(t *testing.T, upstream endpoint) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	p := &proxy{ln: ln}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial(upstream.network, upstream.address)
			if err != nil {
				down.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, down, up)
			p.accepted++
			p.mu.Unlock()
			go func() { io.Copy(up, down); up.Close() }()
			go func() { io.Copy(down, up); down.Close() }()
		}
	}()
	return p
}

func (p *proxy) connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func TestReconnectsOnceAfterTheConnectionBreaks(t *testing.T) {
	eps := endpoints(t)
	p := startProxy(t, eps[0])
	addr := p.ln.Addr().String()
	c := dial(t, "tcp", addr, blink.Options{})
	k := key(t, "reconnect")
	must(t, c.Set(k, []byte("survives")))

	p.cut()
	got, err := c.Get(k)
	if err != nil || string(got) != "survives" {
		t.Fatalf("Get after the connection was cut = %q, %v", got, err)
	}

	// The same for a pipeline.
	p.cut()
	pipe := c.Pipeline()
	pipe.Get(k)
	pipe.Delete(k)
	rs, err := pipe.Exec()
	if err != nil || string(rs[0].Value) != "survives" || rs[1].Err != nil {
		t.Fatalf("pipeline after the connection was cut = %+v, %v", rs, err)
	}
	if n := p.connections(); n != 3 {
		t.Fatalf("%d connections through the proxy, want 3 (two reconnections)", n)
	}

	// The server is gone for good: one attempt to reconnect, then a clear error.
	p.ln.Close()
	p.cut()
	err = c.Ping()
	var ce *blink.ConnectError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "cannot connect to Blink Store at "+addr) {
		t.Fatalf("Ping with the server gone = %v", err)
	}
}

// fakeServer accepts connections and answers each line with reply(line).
func fakeServer(t *testing.T, reply func(line string) string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, conn := range conns {
			conn.Close()
		}
	})
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			go func() {
				buf := make([]byte, 4096)
				var pending []byte
				for {
					n, err := conn.Read(buf)
					if err != nil {
						return
					}
					pending = append(pending, buf[:n]...)
					for {
						i := bytes.IndexByte(pending, '\n')
						if i < 0 {
							break
						}
						if r := reply(string(pending[:i])); r != "" {
							conn.Write([]byte(r))
						}
						pending = pending[i+1:]
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestTimeout(t *testing.T) {
	addr := fakeServer(t, func(string) string { return "" }) // never answers
	c := dial(t, "tcp", addr, blink.Options{Timeout: 200 * time.Millisecond})
	start := time.Now()
	err := c.Ping()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Ping to a silent server = %v, want a timeout", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("timed out after %v, want about 200ms", elapsed)
	}
}

func TestUnexpectedReply(t *testing.T) {
	addr := fakeServer(t, func(line string) string {
		if line == "PING" {
			return "PONG\r\n" // a CR before the LF is fine
		}
		return "WHAT\n"
	})
	c := dial(t, "tcp", addr, blink.Options{})
	must(t, c.Ping())
	if err := c.Set("k", []byte("v")); err == nil || !strings.Contains(err.Error(), `unexpected reply "WHAT" to SET`) {
		t.Fatalf("Set = %v", err)
	}
	// The connection was dropped; the next request connects again.
	must(t, c.Ping())
}

func TestClose(t *testing.T) {
	eps := endpoints(t)
	c, err := blink.DialOptions(eps[0].network, eps[0].address, blink.Options{})
	must(t, err)
	must(t, c.Close())
	must(t, c.Close())
	if err := c.Ping(); !errors.Is(err, blink.ErrClosed) {
		t.Fatalf("Ping after Close = %v", err)
	}
}

func TestDialEnv(t *testing.T) {
	addr, sock := os.Getenv("BLINK_ADDR"), os.Getenv("BLINK_SOCKET")
	if addr == "" || sock == "" {
		t.Skip("set both BLINK_ADDR and BLINK_SOCKET")
	}
	for _, tc := range []struct{ addr, sock, network, address string }{
		{addr, sock, "unix", sock}, // the socket wins
		{addr, "", "tcp", addr},
	} {
		t.Setenv("BLINK_ADDR", tc.addr)
		t.Setenv("BLINK_SOCKET", tc.sock)
		c, err := blink.DialEnv()
		must(t, err)
		if c.Network() != tc.network || c.Address() != tc.address {
			t.Fatalf("DialEnv connected to %s %s", c.Network(), c.Address())
		}
		must(t, c.Ping())
		c.Close()
	}
	t.Setenv("BLINK_ADDR", "")
	t.Setenv("BLINK_SOCKET", "")
	if network, address := blink.FromEnv(); network != "tcp" || address != blink.DefaultAddr {
		t.Fatalf("FromEnv with nothing set = %s %s", network, address)
	}
}
