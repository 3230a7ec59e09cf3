package ratelimit

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestMemoryBucket(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	m := NewMemory(Policy{Rate: 2, Burst: 3}, clock) // 3 at once, then one every 500 ms
	ctx := context.Background()

	for i, wantRemaining := range []int{2, 1, 0} {
		d, _ := m.Allow(ctx, "alice")
		if !d.Allowed || d.Remaining != wantRemaining {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	d, _ := m.Allow(ctx, "alice")
	if d.Allowed || d.RetryAfter != 500*time.Millisecond {
		t.Fatalf("the 4th request at once: %+v", d)
	}
	if d, _ := m.Allow(ctx, "bob"); !d.Allowed {
		t.Fatal("bob pays for alice")
	}
	now = now.Add(500 * time.Millisecond)
	if d, _ := m.Allow(ctx, "alice"); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after one interval: %+v", d)
	}
	now = now.Add(10 * time.Second)
	if d, _ := m.Allow(ctx, "alice"); !d.Allowed || d.Remaining != 2 || d.Reset != 500*time.Millisecond {
		t.Fatalf("after a long pause the bucket is full: %+v", d)
	}
	now = now.Add(2 * time.Minute)
	m.Allow(ctx, "carol")
	if len(m.tats) != 1 {
		t.Errorf("full buckets are not forgotten: %d keys kept", len(m.tats))
	}
}

func redisClient(t *testing.T) *redis.Client {
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	if err := client.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Redis at %s: %v (set TEST_REDIS_URL)", url, err)
	}
	return client
}

// Two instances on one Redis share each user's bucket.
func TestRedisBucketIsShared(t *testing.T) {
	client := redisClient(t)
	prefix := "taskapi-test:" + rand.Text() + ":"
	p := Policy{Rate: 1, Burst: 4}
	a, b := NewRedis(client, p, prefix), NewRedis(client, p, prefix)
	ctx := context.Background()

	allowed := 0
	for i := range 6 {
		limiter := a
		if i%2 == 1 {
			limiter = b
		}
		d, err := limiter.Allow(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			allowed++
		} else if d.RetryAfter <= 0 || d.RetryAfter > time.Second {
			t.Errorf("denied with RetryAfter %s", d.RetryAfter)
		}
	}
	if allowed != 4 {
		t.Errorf("%d of 6 requests across two instances allowed, want the burst of 4", allowed)
	}
	if d, _ := b.Allow(ctx, "bob"); !d.Allowed || d.Remaining != 3 {
		t.Errorf("bob: %+v", d)
	}
	ttl, err := client.PTTL(ctx, prefix+"alice").Result()
	if err != nil || ttl <= 0 || ttl > 5*time.Second {
		t.Errorf("the key does not expire with its bucket: %s %v", ttl, err)
	}
}

func TestRedisDown(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer client.Close()
	if _, err := NewRedis(client, Policy{Rate: 1, Burst: 1}, "x:").Allow(context.Background(), "a"); err == nil {
		t.Error("no error with Redis unreachable")
	}
}
