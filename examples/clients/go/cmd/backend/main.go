// Command backend is a small HTTP service that caches an expensive lookup in
// Blink Store.
//
//	GET /quote?symbol=ABC  a price quote, as JSON; "cached" says whether it came
//	                       from the cache or from the (slow) lookup
//	GET /healthz           200 if the cache answers, 503 if not
//
// It finds the cache through BLINK_SOCKET (a Unix socket path) or BLINK_ADDR
// (host:port), default 127.0.0.1:8765, and listens on PORT (default 8080; 0
// picks a free port). It logs the address it listens on, and shuts down
// gracefully on SIGINT or SIGTERM. It needs the cache to start; if the cache
// goes away later, it still answers, uncached.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	"example.com/blink"
)

const (
	// cacheTTL is how long a quote stays cached.
	cacheTTL = 30 * time.Second
	// lookupDelay stands in for a slow database query or remote API call.
	lookupDelay = 300 * time.Millisecond
)

var validSymbol = regexp.MustCompile(`^[A-Za-z0-9]{1,16}$`)

// Quote is what /quote returns.
type Quote struct {
	Symbol    string  `json:"symbol"`
	Price     float64 `json:"price"`
	Cached    bool    `json:"cached"`
	ElapsedMS int64   `json:"elapsed_ms"`
}

type server struct {
	cache *blink.Client
}

// lookup is the expensive computation the cache saves.
func lookup(ctx context.Context, symbol string) (Quote, error) {
	select {
	case <-time.After(lookupDelay):
	case <-ctx.Done():
		return Quote{}, ctx.Err()
	}
	h := fnv.New32a()
	h.Write([]byte(symbol))
	return Quote{Symbol: symbol, Price: float64(h.Sum32()%100000) / 100}, nil
}

func (s *server) quote(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	symbol := r.URL.Query().Get("symbol")
	if !validSymbol.MatchString(symbol) {
		http.Error(w, "symbol must be 1 to 16 letters or digits", http.StatusBadRequest)
		return
	}
	key := "quote:" + symbol

	var q Quote
	cached, err := s.cache.Get(key)
	switch {
	case err == nil && json.Unmarshal(cached, &q) == nil:
		q.Cached = true
	default:
		if err != nil && !errors.Is(err, blink.ErrNotFound) {
			log.Printf("cache read failed, looking up: %v", err)
		}
		if q, err = lookup(r.Context(), symbol); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		// SET then EXPIRE in one round trip. JSON never holds a raw LF.
		value, _ := json.Marshal(q)
		p := s.cache.Pipeline()
		p.Set(key, value)
		p.Expire(key, cacheTTL)
		if results, err := p.Exec(); err != nil {
			log.Printf("cache write failed: %v", err)
		} else {
			for _, res := range results {
				if res.Err != nil {
					log.Printf("cache write failed: %s: %v", res.Cmd, res.Err)
				}
			}
		}
	}
	q.ElapsedMS = time.Since(start).Milliseconds()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(q)
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.cache.Ping(); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmsgprefix)
	log.SetPrefix("backend: ")
	network, address := blink.FromEnv()
	cache, err := blink.DialOptions(network, address, blink.Options{Timeout: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer cache.Close()

	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		log.Fatal(err)
	}
	s := &server{cache: cache}
	mux := http.NewServeMux()
	mux.HandleFunc("/quote", s.quote)
	mux.HandleFunc("/healthz", s.healthz)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		// Stop accepting, and let requests in flight finish.
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			log.Printf("shutdown: %v", err)
		}
	}()
	log.Printf("listening on %s, caching in Blink Store at %s %s", ln.Addr(), network, address)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	<-drained
	log.Print("stopped")
}
