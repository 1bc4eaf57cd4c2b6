package pg

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Pool limits, Spin's (crates/factor-outbound-pg: CONNECTION_POOL_SIZE,
// CONNECTION_POOL_CACHE_CAPACITY).
const (
	DefaultMaxIdlePerAddress = 64
	maxPoolAddresses         = 16
)

// resetSQL cleans a pooled session before reuse, as deadpool-postgres's
// Clean recycling does for Spin (prepared statements go with
// Conn.DeallocateAll, which keeps pgx's statement cache in step).
const resetSQL = "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; " +
	"SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES"

// idlePool keeps connections between messages, per address and extra root
// CA. A connection returns to it only outside a transaction, and is reset
// when taken; one that fails the reset is closed and another tried.
type idlePool struct {
	mu      sync.Mutex
	idle    map[string][]*pgx.Conn
	keys    []string // oldest first
	maxIdle int
}

func newIdlePool(maxIdle int) *idlePool {
	return &idlePool{idle: map[string][]*pgx.Conn{}, maxIdle: maxIdle}
}

// poolKey identifies connections that may be shared: the same address
// and root CA.
func poolKey(address string, ca *x509.Certificate) string {
	if ca == nil {
		return address
	}
	sum := sha256.Sum256(ca.Raw)
	return address + "\x00" + hex.EncodeToString(sum[:])
}

// take returns a reset idle connection for key, or nil.
func (p *idlePool) take(ctx context.Context, key string) *pgx.Conn {
	for {
		p.mu.Lock()
		list := p.idle[key]
		if len(list) == 0 {
			p.mu.Unlock()
			return nil
		}
		cn := list[len(list)-1]
		p.idle[key] = list[:len(list)-1]
		p.mu.Unlock()
		if reset(ctx, cn) == nil {
			return cn
		}
		closeConn(cn)
	}
}

func reset(ctx context.Context, cn *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cn.Exec(ctx, resetSQL); err != nil {
		return err
	}
	return cn.DeallocateAll(ctx)
}

// put returns cn to the pool, or closes it when it is broken, inside a
// transaction, or the pool is full. Too many addresses evict the oldest.
func (p *idlePool) put(key string, cn *pgx.Conn) {
	if p.maxIdle <= 0 || cn.IsClosed() || cn.PgConn().TxStatus() != 'I' {
		closeConn(cn)
		return
	}
	p.mu.Lock()
	if len(p.idle[key]) >= p.maxIdle {
		p.mu.Unlock()
		closeConn(cn)
		return
	}
	var evicted []*pgx.Conn
	if _, ok := p.idle[key]; !ok {
		p.keys = append(p.keys, key)
		if len(p.keys) > maxPoolAddresses {
			old := p.keys[0]
			p.keys = slices.Delete(p.keys, 0, 1)
			evicted = p.idle[old]
			delete(p.idle, old)
		}
	}
	p.idle[key] = append(p.idle[key], cn)
	p.mu.Unlock()
	for _, c := range evicted {
		closeConn(c)
	}
}

// closeAll closes every idle connection.
func (p *idlePool) closeAll() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.keys = map[string][]*pgx.Conn{}, nil
	p.mu.Unlock()
	for _, list := range idle {
		for _, cn := range list {
			closeConn(cn)
		}
	}
}

// idleCount returns the number of idle connections (for tests).
func (p *idlePool) idleCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.idle {
		n += len(l)
	}
	return n
}
