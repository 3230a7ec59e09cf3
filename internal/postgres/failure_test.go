package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestPermanentFailure(t *testing.T) {
	const server = "db.example.com:5432"
	pgErr := func(code, msg string) error {
		// As pgx returns it: inside the connect error, joined with the other addresses' errors.
		return fmt.Errorf("failed to connect: %w", errors.Join(
			&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)},
			&pgconn.PgError{Severity: "FATAL", Code: code, Message: msg}))
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		name        string
		err         error
		sentTimeout bool
		want        []string // nil: transient
	}{
		{name: "connection refused", err: fmt.Errorf("dial: %w", refused)},
		{name: "connection reset", err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}},
		{name: "closed during the handshake", err: fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF)},
		{name: "dial timeout", err: &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}}},
		{name: "Open's deadline", err: fmt.Errorf("timeout: %w", context.DeadlineExceeded)},
		{name: "starting up", err: pgErr("57P03", "the database system is starting up")},
		{name: "DNS temporary failure", err: &net.DNSError{Err: "server misbehaving", Name: "db", IsTemporary: true}},
		{name: "DNS timeout", err: &net.DNSError{Err: "i/o timeout", Name: "db", IsTimeout: true}},
		{name: "DNS no such host", err: fmt.Errorf("hostname resolving error: %w", &net.DNSError{Err: "no such host", Name: "db.example", IsNotFound: true}),
			want: []string{`the database host "db.example" cannot be resolved (no such host): check the host in DATABASE_URL`}},
		{name: "missing database", err: pgErr("3D000", `database "tasks" does not exist`),
			want: []string{`database "tasks" does not exist (server db.example.com:5432, SQLSTATE 3D000): check the database name in DATABASE_URL`}},
		{name: "missing role", err: pgErr("28000", `role "alex" does not exist`),
			want: []string{`role "alex" does not exist (server db.example.com:5432, SQLSTATE 28000): check the user (and sslmode) in DATABASE_URL`}},
		{name: "wrong password", err: pgErr("28P01", `password authentication failed for user "alex"`),
			want: []string{`password authentication failed for user "alex" (server db.example.com:5432, SQLSTATE 28P01): check the password in DATABASE_URL`}},
		{name: "statement_timeout refused with DB_POOLER=none", sentTimeout: true,
			err:  pgErr("08P01", "unsupported startup parameter: statement_timeout"),
			want: []string{"the server at db.example.com:5432 refused the startup parameter statement_timeout", "set DB_POOLER=transaction"}},
		{name: "a URL's parameter refused", sentTimeout: true, err: pgErr("08P01", "unsupported startup parameter: search_path=app"),
			want: []string{"refused the startup parameter search_path,", "remove it from DATABASE_URL"}},
		{name: "statement_timeout from the URL refused", err: pgErr("08P01", "unsupported startup parameter: statement_timeout"),
			want: []string{"refused the startup parameter statement_timeout,", "remove it from DATABASE_URL"}},
		{name: "another protocol violation", err: pgErr("08P01", "no such database: tasks"),
			want: []string{"no such database: tasks (server db.example.com:5432, SQLSTATE 08P01): check DATABASE_URL and, if a pooler"}},
		{name: "any other server error", err: pgErr("53300", "sorry, too many clients already"),
			want: []string{"sorry, too many clients already (server db.example.com:5432, SQLSTATE 53300): check DATABASE_URL"}},
		{name: "any other error", err: errors.New("tls error: server refused TLS connection"),
			want: []string{"tls error: server refused TLS connection: check DATABASE_URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := permanentFailure(tc.err, server, "DATABASE_URL", tc.sentTimeout)
			if (err == nil) != (tc.want == nil) {
				t.Fatalf("permanentFailure = %v, want permanent: %t", err, tc.want != nil)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q\nlacks %q", err, want)
				}
			}
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestRefusedParameter(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&pgconn.PgError{Code: "08P01", Message: "unsupported startup parameter: statement_timeout"}, "statement_timeout"},
		{&pgconn.PgError{Code: "08P01", Message: "unsupported startup parameter: search_path=app"}, "search_path"},
		{&pgconn.PgError{Code: "08P01", Message: "unsupported startup parameter in options: statement_timeout"}, "statement_timeout"},
		{&pgconn.PgError{Code: "08P01", Message: "unsupported startup parameter: statement_timeout. Please use unpooled connection " +
			"or remove this parameter from the startup package. More details: https://neon.tech/docs/connect/connection-errors"}, "statement_timeout"},
		{&pgconn.PgError{Code: "08P01", Message: "unsupported startup parameter: "}, ""},
		{&pgconn.PgError{Code: "08P01", Message: "no such database: tasks"}, ""},
		{&pgconn.PgError{Code: "3D000", Message: `database "tasks" does not exist`}, ""},
		{syscall.ECONNREFUSED, ""},
	} {
		if got := refusedParameter(tc.err); got != tc.want {
			t.Errorf("refusedParameter(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
