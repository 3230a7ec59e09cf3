package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"taskapi/internal/auth"
	"taskapi/internal/problem"
)

// Middleware spends one token of the authenticated user's bucket per request, and says what
// is left in the RateLimit headers (draft-ietf-httpapi-ratelimit-headers). Requests without a
// user (the ops routes) are not limited. If the limiter's store fails, the request goes ahead:
// an outage of Redis must not become an outage of the API.
func Middleware(l Limiter, logger *slog.Logger) echo.MiddlewareFunc {
	policy := l.Policy()
	policyHeader := fmt.Sprintf(`"default";q=%d;w=%d`, policy.Burst, ceilSeconds(policy.Window()))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			user, ok := auth.UserID(ctx)
			if !ok || ctx.Value(countedKey{}) != nil {
				return next(c)
			}
			d, err := l.Allow(ctx, user)
			if err != nil {
				logger.WarnContext(ctx, "rate limiter unavailable; request allowed",
					"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
				return next(c)
			}
			h := c.Response().Header()
			h.Set("RateLimit-Policy", policyHeader)
			h.Set("RateLimit", fmt.Sprintf(`"default";r=%d;t=%d`, d.Remaining, ceilSeconds(d.Reset)))
			if !d.Allowed {
				retry := ceilSeconds(d.RetryAfter)
				h.Set(echo.HeaderRetryAfter, strconv.Itoa(retry))
				return problem.New(problem.TooManyRequests, fmt.Sprintf("rate limit exceeded; retry in %d s", retry))
			}
			return next(c)
		}
	}
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}

type countedKey struct{}

// Counted marks a request made in-process on behalf of one that was counted already (an MCP
// tool call, made inside the MCP request): it spends no second token.
func Counted(ctx context.Context) context.Context {
	return context.WithValue(ctx, countedKey{}, true)
}
