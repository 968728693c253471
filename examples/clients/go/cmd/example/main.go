// Command example walks through the client: it connects where BLINK_SOCKET or
// BLINK_ADDR says (default 127.0.0.1:8765), then stores, reads, expires and
// deletes a key, and sends a pipeline.
package main

import (
	"errors"
	"fmt"
	"log"
	"time"

	"example.com/blink"
)

func main() {
	log.SetFlags(0)
	c, err := blink.DialEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Printf("connected to %s %s\n", c.Network(), c.Address())

	if err := c.Ping(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("PING: ok")

	if err := c.Set("greeting", []byte("hello, world")); err != nil {
		log.Fatal(err)
	}
	value, err := c.Get("greeting")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("GET greeting: %q\n", value)

	if err := c.Expire("greeting", time.Minute); err != nil {
		log.Fatal(err)
	}
	ttl, err := c.TTL("greeting")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("TTL greeting: %v\n", ttl)

	// Values are bytes: anything but LF, and not ending in CR.
	binary := []byte{0, 1, 2, 0xfe, 0xff}
	if err := c.Set("binary", binary); err != nil {
		log.Fatal(err)
	}
	if err := c.Set("bad", []byte("two\nlines")); errors.Is(err, blink.ErrInvalidValue) {
		fmt.Println("SET with an LF: refused before sending")
	}

	// One write, one reply per command, in order.
	p := c.Pipeline()
	p.Get("binary")
	p.Get("no-such-key")
	p.Usage()
	results, err := p.Exec()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("pipeline: GET binary %x\n", results[0].Value)
	if errors.Is(results[1].Err, blink.ErrNotFound) {
		fmt.Println("pipeline: GET no-such-key not found")
	}
	fmt.Printf("pipeline: USAGE %d bytes\n", results[2].Usage)

	info, err := c.Info()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("INFO: %d keys, %d of %d bytes used\n", info.Keys, info.UsedBytes, info.Limit)

	for _, key := range []string{"greeting", "binary"} {
		if err := c.Delete(key); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := c.Get("greeting"); errors.Is(err, blink.ErrNotFound) {
		fmt.Println("GET greeting after DELETE: not found")
	}
}
