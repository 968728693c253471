// Package blink is a client for Blink Store's line protocol, over TCP or a Unix
// socket, using only the standard library.
//
// A Client holds one connection. It is safe for concurrent use: a mutex serializes
// requests, so goroutines sharing one Client take turns on its connection. Open
// several Clients for requests in parallel.
//
// Commands on a missing key (Get, Delete, Expire, TTL, Persist) return ErrNotFound,
// the way Go's cache clients report a miss; test for it with errors.Is. A request
// the server refuses returns a *ServerError. Keys and values the line protocol
// cannot carry are refused before anything is sent, with an error wrapping
// ErrInvalidKey or ErrInvalidValue.
//
// If the connection turns out to be broken (the server closed it, or restarted),
// the client connects again once and resends the request; if nothing answers, the
// error is a *ConnectError ("cannot connect to Blink Store at ADDR: ...").
package blink

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	// DefaultAddr is where the server listens unless told otherwise.
	DefaultAddr = "127.0.0.1:8765"
	// DefaultTimeout bounds connecting, and each wait for the server to take a
	// request or send a reply, unless Options says otherwise.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxKeySize is the server's default --max-key-size.
	DefaultMaxKeySize = 1024
	// NoExpiry is what TTL returns for a key that never expires.
	NoExpiry time.Duration = -1
)

var (
	// ErrNotFound is returned (wrapped or not) when the key does not exist.
	ErrNotFound = errors.New("blink: key not found")
	// ErrInvalidKey is wrapped by the error for a key the protocol cannot carry:
	// empty, too long, or holding a space, a control byte or DEL (0x7f).
	ErrInvalidKey = errors.New("blink: invalid key")
	// ErrInvalidValue is wrapped by the error for a value the protocol cannot
	// carry: one holding an LF, or ending in CR.
	ErrInvalidValue = errors.New("blink: invalid value")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("blink: client is closed")
)

// ServerError is a request the server refused: its reply was "ERROR <Message>".
// The connection keeps working.
type ServerError struct {
	Message string
}

func (e *ServerError) Error() string {
	return "blink: server error: " + e.Message
}

// ConnectError is a failure to connect to the server.
type ConnectError struct {
	Network string // "tcp" or "unix"
	Address string // host:port or socket path
	Err     error  // what the dial returned
}

func (e *ConnectError) Error() string {
	cause := e.Err
	var op *net.OpError
	if errors.As(cause, &op) && op.Err != nil {
		cause = op.Err // the address is already in the message
	}
	return fmt.Sprintf("blink: cannot connect to Blink Store at %s: %v", e.Address, cause)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// Options tune a Client. The zero value means the defaults.
type Options struct {
	// DialTimeout bounds connecting (zero: DefaultTimeout).
	DialTimeout time.Duration
	// Timeout bounds each wait for the server to accept request bytes or to
	// send a reply line (zero: DefaultTimeout). A timed-out connection is closed
	// and the next request connects again; the timed-out request is not resent,
	// since the server may still carry it out.
	Timeout time.Duration
	// MaxKeySize is the longest key sent (zero: DefaultMaxKeySize). Raise it
	// only for a server started with a larger --max-key-size.
	MaxKeySize int
}

// Client is a connection to a Blink Store server. See the package documentation
// for its error conventions and concurrency.
type Client struct {
	network, address string
	opts             Options

	mu     sync.Mutex
	conn   net.Conn
	r      *bufio.Reader
	closed bool
}

// Dial connects over TCP to addr ("host:port") with the default options.
func Dial(addr string) (*Client, error) {
	return DialOptions("tcp", addr, Options{})
}

// DialUnix connects to the Unix socket at path with the default options.
func DialUnix(path string) (*Client, error) {
	return DialOptions("unix", path, Options{})
}

// DialOptions connects over network ("tcp", "tcp4", "tcp6" or "unix") to
// address. It fails with a *ConnectError if nothing answers there.
func DialOptions(network, address string, opts Options) (*Client, error) {
	switch network {
	case "tcp", "tcp4", "tcp6", "unix":
	default:
		return nil, fmt.Errorf("blink: unsupported network %q (want tcp or unix)", network)
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultTimeout
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxKeySize <= 0 {
		opts.MaxKeySize = DefaultMaxKeySize
	}
	c := &Client{network: network, address: address, opts: opts}
	if err := c.connect(); err != nil {
		return nil, err
	}
	return c, nil
}

// FromEnv returns where the environment says the server is: the Unix socket in
// BLINK_SOCKET if set, else the TCP address in BLINK_ADDR, else DefaultAddr.
func FromEnv() (network, address string) {
	if path := os.Getenv("BLINK_SOCKET"); path != "" {
		return "unix", path
	}
	if addr := os.Getenv("BLINK_ADDR"); addr != "" {
		return "tcp", addr
	}
	return "tcp", DefaultAddr
}

// DialEnv connects where FromEnv says, with the default options.
func DialEnv() (*Client, error) {
	network, address := FromEnv()
	return DialOptions(network, address, Options{})
}

// Network is "tcp" (or "tcp4", "tcp6") or "unix": how the client connects.
func (c *Client) Network() string { return c.network }

// Address is the TCP address or socket path the client connects to.
func (c *Client) Address() string { return c.address }

// Close closes the connection. Every later call returns ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn, c.r = nil, nil
	return err
}

// Set stores value under key, replacing any value and clearing any expiry.
func (c *Client) Set(key string, value []byte) error {
	return c.one(c.set(key, value)).Err
}

// Get returns the value stored under key, or ErrNotFound. An empty stored value
// is a non-nil empty slice.
func (c *Client) Get(key string) ([]byte, error) {
	r := c.one(c.get(key))
	return r.Value, r.Err
}

// Delete removes key, or returns ErrNotFound if it did not exist.
func (c *Client) Delete(key string) error {
	return c.one(c.keyCommand("DELETE", key)).Err
}

// Usage returns the bytes of keys and values stored.
func (c *Client) Usage() (int64, error) {
	r := c.one(command{name: "USAGE"})
	return r.Usage, r.Err
}

// Ping checks that the server answers.
func (c *Client) Ping() error {
	return c.one(command{name: "PING"}).Err
}

// Expire makes key expire after ttl, rounded up to whole seconds; a ttl of zero
// or less deletes the key at once. It returns ErrNotFound if key does not exist.
func (c *Client) Expire(key string, ttl time.Duration) error {
	return c.one(c.expire(key, ttl)).Err
}

// TTL returns the time key has left, in whole seconds, or NoExpiry if it never
// expires, or ErrNotFound if it does not exist.
func (c *Client) TTL(key string) (time.Duration, error) {
	r := c.one(c.keyCommand("TTL", key))
	return r.TTL, r.Err
}

// Persist removes key's expiry, or returns ErrNotFound if it does not exist.
func (c *Client) Persist(key string) error {
	return c.one(c.keyCommand("PERSIST", key)).Err
}

// Info returns the server's counters.
func (c *Client) Info() (*Info, error) {
	r := c.one(command{name: "INFO"})
	return r.Info, r.Err
}

// Info is the server's INFO reply.
type Info struct {
	Keys        int64         // keys stored
	UsedBytes   int64         // bytes of keys and values, as Usage
	Limit       int64         // the memory limit in bytes
	Hits        int64         // reads that found their key
	Misses      int64         // reads that did not
	Evictions   int64         // keys evicted to stay under the limit
	Expirations int64         // keys removed because they expired
	Connections int64         // clients connected now
	Uptime      time.Duration // since the server started
	// Fields holds every field as sent, including any this client does not know.
	Fields map[string]string
}

// Result is the outcome of one pipelined command. Err is nil, ErrNotFound or a
// *ServerError; the other fields are set by the commands they name.
type Result struct {
	Cmd   string        // the command word, such as "GET"
	Key   string        // the key, for commands that take one
	Value []byte        // GET: the value
	Usage int64         // USAGE: bytes stored
	TTL   time.Duration // TTL: time left, or NoExpiry
	Info  *Info         // INFO: the counters
	Err   error
}

// command is one request line and how its reply is read.
type command struct {
	name string
	key  string
	line []byte // without the LF; nil for commands without arguments
	err  error  // a key or value refused before sending
}

func (cmd command) bytes() []byte {
	if cmd.line == nil {
		return []byte(cmd.name)
	}
	return cmd.line
}

func (c *Client) checkKey(key string) error {
	if len(key) == 0 || len(key) > c.opts.MaxKeySize {
		return fmt.Errorf("%w %q: a key is 1 to %d bytes long", ErrInvalidKey, key, c.opts.MaxKeySize)
	}
	for i := 0; i < len(key); i++ {
		if b := key[i]; b <= ' ' || b == 0x7f {
			return fmt.Errorf("%w %q: byte %d is a space or control byte (0x%02x)", ErrInvalidKey, key, i, b)
		}
	}
	return nil
}

func checkValue(key string, value []byte) error {
	if i := bytes.IndexByte(value, '\n'); i >= 0 {
		return fmt.Errorf("%w for key %q: byte %d is an LF, which the line protocol cannot carry", ErrInvalidValue, key, i)
	}
	if len(value) > 0 && value[len(value)-1] == '\r' {
		return fmt.Errorf("%w for key %q: it ends in CR, which the line protocol cannot carry", ErrInvalidValue, key)
	}
	return nil
}

func (c *Client) keyCommand(name, key string, args ...string) command {
	cmd := command{name: name, key: key}
	if cmd.err = c.checkKey(key); cmd.err != nil {
		return cmd
	}
	n := len(name) + 1 + len(key)
	for _, arg := range args {
		n += 1 + len(arg)
	}
	line := make([]byte, 0, n)
	line = append(append(append(line, name...), ' '), key...)
	for _, arg := range args {
		line = append(append(line, ' '), arg...)
	}
	cmd.line = line
	return cmd
}

func (c *Client) set(key string, value []byte) command {
	cmd := command{name: "SET", key: key}
	if cmd.err = c.checkKey(key); cmd.err != nil {
		return cmd
	}
	if cmd.err = checkValue(key, value); cmd.err != nil {
		return cmd
	}
	line := make([]byte, 0, len("SET ")+len(key)+1+len(value))
	line = append(append(append(append(line, "SET "...), key...), ' '), value...)
	cmd.line = line
	return cmd
}

func (c *Client) get(key string) command { return c.keyCommand("GET", key) }

func (c *Client) expire(key string, ttl time.Duration) command {
	seconds := int64(0)
	if ttl > 0 {
		seconds = int64((ttl + time.Second - 1) / time.Second)
	}
	return c.keyCommand("EXPIRE", key, strconv.FormatInt(seconds, 10))
}

// one runs a single command; errors of every kind end up in the Result.
func (c *Client) one(cmd command) Result {
	results, err := c.run([]command{cmd})
	if err != nil {
		return Result{Cmd: cmd.name, Key: cmd.key, Err: err}
	}
	return results[0]
}

// run sends cmds in one write and reads one reply each. The error is for what
// stops the whole batch (an invalid argument, a connection failure, a reply that
// makes no sense); per-command outcomes are in the Results.
func (c *Client) run(cmds []command) ([]Result, error) {
	size := 0
	for _, cmd := range cmds {
		if cmd.err != nil {
			return nil, cmd.err
		}
		size += len(cmd.bytes()) + 1
	}
	request := make([]byte, 0, size)
	for _, cmd := range cmds {
		request = append(append(request, cmd.bytes()...), '\n')
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	reused := c.conn != nil
	if !reused {
		if err := c.connect(); err != nil {
			return nil, err
		}
	}
	lines, answered, err := c.exchange(request, len(cmds))
	if err != nil && reused && !answered && broken(err) {
		// The connection died while idle (the server closed it or restarted):
		// nothing was carried out, so sending again is safe.
		c.disconnect()
		if err := c.connect(); err != nil {
			return nil, err
		}
		lines, _, err = c.exchange(request, len(cmds))
	}
	if err != nil {
		c.disconnect()
		return nil, fmt.Errorf("blink: connection to Blink Store at %s failed: %w", c.address, err)
	}
	results := make([]Result, len(cmds))
	for i, cmd := range cmds {
		results[i], err = parse(cmd, lines[i])
		if err != nil {
			// The replies no longer line up with the requests.
			c.disconnect()
			return nil, err
		}
	}
	return results, nil
}

func (c *Client) connect() error {
	d := net.Dialer{Timeout: c.opts.DialTimeout}
	conn, err := d.Dial(c.network, c.address)
	if err != nil {
		return &ConnectError{Network: c.network, Address: c.address, Err: err}
	}
	c.conn = conn
	c.r = bufio.NewReaderSize(conn, 64<<10)
	return nil
}

func (c *Client) disconnect() {
	if c.conn != nil {
		c.conn.Close()
	}
	c.conn, c.r = nil, nil
}

var (
	errClosedByServer = errors.New("the server closed the connection")
	errClosedMidReply = errors.New("the server closed the connection in the middle of a reply")
)

// broken says whether err means the peer had closed the connection.
func broken(err error) bool {
	return errors.Is(err, errClosedByServer) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED)
}

// exchange writes request and reads n reply lines (without their line ends).
// answered says whether any reply byte arrived before a failure.
func (c *Client) exchange(request []byte, n int) (lines [][]byte, answered bool, err error) {
	conn := c.conn
	if n == 1 {
		// The server reads a whole line before it answers: no need to read while
		// writing.
		if err := c.write(conn, request); err != nil {
			return nil, false, err
		}
		return c.readLines(conn, n)
	}
	// Read while writing: a long pipeline's replies would otherwise fill the
	// socket buffers and stall both sides.
	written := make(chan error, 1)
	go func() { written <- c.write(conn, request) }()
	lines, answered, err = c.readLines(conn, n)
	if err != nil {
		conn.Close() // unblocks the writer
		<-written
		return lines, answered, err
	}
	return lines, answered, <-written
}

func (c *Client) write(conn net.Conn, request []byte) error {
	const chunk = 256 << 10
	for len(request) > 0 {
		part := request
		if len(part) > chunk {
			part = part[:chunk]
		}
		if err := conn.SetWriteDeadline(time.Now().Add(c.opts.Timeout)); err != nil {
			return err
		}
		if _, err := conn.Write(part); err != nil {
			return err
		}
		request = request[len(part):]
	}
	return nil
}

func (c *Client) readLines(conn net.Conn, n int) ([][]byte, bool, error) {
	lines := make([][]byte, 0, n)
	for len(lines) < n {
		if err := conn.SetReadDeadline(time.Now().Add(c.opts.Timeout)); err != nil {
			return nil, len(lines) > 0, err
		}
		line, err := c.r.ReadBytes('\n')
		if err != nil {
			answered := len(lines) > 0 || len(line) > 0
			if errors.Is(err, io.EOF) {
				err = errClosedByServer
				if answered {
					err = errClosedMidReply
				}
			}
			return nil, answered, err
		}
		line = line[:len(line)-1]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		lines = append(lines, line)
	}
	return lines, true, nil
}

// parse reads cmd's reply line into a Result; the error is for a reply that
// does not fit the command.
func parse(cmd command, line []byte) (Result, error) {
	r := Result{Cmd: cmd.name, Key: cmd.key}
	word, rest := line, []byte(nil)
	if i := bytes.IndexByte(line, ' '); i >= 0 {
		word, rest = line[:i], line[i+1:]
	}
	unexpected := func() (Result, error) {
		return r, fmt.Errorf("blink: unexpected reply %q to %s", line, cmd.name)
	}
	switch string(word) {
	case "ERROR":
		r.Err = &ServerError{Message: string(rest)}
		return r, nil
	case "NOT_FOUND":
		switch cmd.name {
		case "GET", "DELETE", "EXPIRE", "TTL", "PERSIST":
			r.Err = ErrNotFound
			return r, nil
		}
		return unexpected()
	}
	switch cmd.name {
	case "SET", "DELETE", "EXPIRE", "PERSIST":
		if string(line) != "OK" {
			return unexpected()
		}
	case "PING":
		if string(line) != "PONG" {
			return unexpected()
		}
	case "GET":
		if string(word) != "VALUE" || len(word) == len(line) {
			return unexpected()
		}
		r.Value = make([]byte, base64.StdEncoding.DecodedLen(len(rest)))
		n, err := base64.StdEncoding.Decode(r.Value, rest)
		if err != nil {
			return r, fmt.Errorf("blink: bad base64 in reply to GET: %v", err)
		}
		r.Value = r.Value[:n]
	case "USAGE":
		n, err := strconv.ParseInt(string(rest), 10, 64)
		if string(word) != "USAGE" || err != nil {
			return unexpected()
		}
		r.Usage = n
	case "TTL":
		n, err := strconv.ParseInt(string(rest), 10, 64)
		if string(word) != "TTL" || err != nil || n < -1 {
			return unexpected()
		}
		r.TTL = NoExpiry
		if n >= 0 {
			r.TTL = time.Duration(n) * time.Second
		}
	case "INFO":
		if string(word) != "INFO" {
			return unexpected()
		}
		info, err := parseInfo(rest)
		if err != nil {
			return r, fmt.Errorf("blink: bad INFO reply %q: %v", line, err)
		}
		r.Info = info
	default:
		return unexpected()
	}
	return r, nil
}

func parseInfo(text []byte) (*Info, error) {
	info := &Info{Fields: make(map[string]string)}
	for _, field := range bytes.Fields(text) {
		k, v, ok := bytes.Cut(field, []byte("="))
		if !ok {
			return nil, fmt.Errorf("field %q has no '='", field)
		}
		info.Fields[string(k)] = string(v)
	}
	ints := map[string]*int64{
		"keys": &info.Keys, "used_bytes": &info.UsedBytes, "limit": &info.Limit,
		"hits": &info.Hits, "misses": &info.Misses, "evictions": &info.Evictions,
		"expirations": &info.Expirations, "connections": &info.Connections,
	}
	for name, dst := range ints {
		if v, ok := info.Fields[name]; ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s=%s is not an integer", name, v)
			}
			*dst = n
		}
	}
	if v, ok := info.Fields["uptime"]; ok {
		seconds, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("uptime=%s is not a number", v)
		}
		info.Uptime = time.Duration(seconds * float64(time.Second))
	}
	return info, nil
}
