package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// gcra is decide() as one atomic Redis script, on Redis's clock so that instances with
// skewed clocks still share one bucket. Times are microseconds.
var gcra = redis.NewScript(`
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nxt = tat + interval
local allow_at = nxt - burst * interval
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.ceil((nxt - now) / 1000))
return {1, math.floor((now - allow_at) / interval), 0, nxt - now}
`)

// Redis is a Limiter whose buckets live in Redis, shared by every instance using the same
// Redis and prefix.
type Redis struct {
	client *redis.Client
	policy Policy
	prefix string
}

// NewRedis returns a limiter storing its buckets under prefix in client.
func NewRedis(client *redis.Client, p Policy, prefix string) *Redis {
	return &Redis{client: client, policy: p, prefix: prefix}
}

func (r *Redis) Policy() Policy { return r.policy }

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, key string) (Decision, error) {
	interval := r.policy.interval().Microseconds()
	res, err := gcra.Run(ctx, r.client, []string{r.prefix + key}, interval, r.policy.Burst).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 4 {
		return Decision{}, fmt.Errorf("ratelimit: redis script returned %v", res)
	}
	return Decision{
		Allowed:    res[0] == 1,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
		Reset:      time.Duration(res[3]) * time.Microsecond,
	}, nil
}
