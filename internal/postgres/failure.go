package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// permanentFailure tells a failed connection attempt that retrying cannot fix from one that
// may pass: it returns nil for a server that is starting up (or waking) and for a network
// that refused, reset or timed out, and otherwise an error that names the cause and the
// setting to change. server is the host:port dialled, urlVariable the setting the URL came
// from, sentTimeout whether the attempt sent statement_timeout (a pooler refuses it).
//
// Every message is made of the server's words, names and addresses, never of the URL, which
// may hold the password.
func permanentFailure(err error, server, urlVariable string, sentTimeout bool) error {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		why := fmt.Sprintf("%s (server %s, SQLSTATE %s)", pgErr.Message, server, pgErr.Code)
		switch name := refusedParameter(err); {
		case name == "statement_timeout" && sentTimeout:
			return fmt.Errorf("the server at %s refused the startup parameter statement_timeout, as a transaction pooler "+
				"such as PgBouncer does (%s): set DB_POOLER=transaction (or auto)", server, pgErr.Message)
		case name != "":
			return fmt.Errorf("the server at %s refused the startup parameter %s, which a pooler cannot keep for the "+
				"session (%s): remove it from %s", server, name, pgErr.Message, urlVariable)
		}
		switch pgErr.Code {
		case "57P03": // cannot_connect_now: starting up, shutting down, in recovery
			return nil
		case "3D000": // invalid_catalog_name
			return fmt.Errorf("%s: check the database name in %s", why, urlVariable)
		case "28P01": // invalid_password
			return fmt.Errorf("%s: check the password in %s", why, urlVariable)
		case "28000": // invalid_authorization_specification: no such role, or pg_hba.conf refused it
			return fmt.Errorf("%s: check the user (and sslmode) in %s", why, urlVariable)
		case "08P01": // protocol_violation
			return fmt.Errorf("%s: check %s and, if a pooler is in front of the server, its configuration", why, urlVariable)
		}
		return fmt.Errorf("%s: check %s", why, urlVariable)
	}
	if dnsErr, ok := errors.AsType[*net.DNSError](err); ok {
		if dnsErr.IsTemporary || dnsErr.IsTimeout {
			return nil
		}
		return fmt.Errorf("the database host %q cannot be resolved (%s): check the host in %s", dnsErr.Name, dnsErr.Err, urlVariable)
	}
	netErr, isNetErr := errors.AsType[net.Error](err)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		// The server closed the connection during the handshake: it is restarting.
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		isNetErr && netErr.Timeout(),
		// Open's own deadline or cancellation; Open stops retrying on it.
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return nil
	}
	return fmt.Errorf("%w: check %s", err, urlVariable)
}

// refusedParameter is the startup parameter a pooler refused the connection for ("" if that
// is not why it failed). PgBouncer answers a parameter it cannot keep for the session (any but
// client_encoding, DateStyle, TimeZone, standard_conforming_strings and application_name,
// unless listed in its ignore_startup_parameters) with SQLSTATE 08P01 and "unsupported
// startup parameter: name" (or "name=value"); newer versions and Neon's proxy say "in
// options: name" for one inside the options parameter, and Neon appends advice after a period.
func refusedParameter(err error) string {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	if !ok || !strings.HasPrefix(pgErr.Message, "unsupported startup parameter") {
		return ""
	}
	_, parameter, _ := strings.Cut(pgErr.Message, ": ")
	name, _, _ := strings.Cut(parameter, " ")
	name, _, _ = strings.Cut(name, "=")
	return strings.TrimSuffix(name, ".")
}
