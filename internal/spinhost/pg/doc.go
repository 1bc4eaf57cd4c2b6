// Package pg is Spin's outbound PostgreSQL host (fermyon:spin/postgres@2.0.0,
// spin:postgres/postgres@3.0.0 and 4.x, the unversioned
// fermyon:spin/postgres and Spin 1.x outbound-pg) in plain Go, on pgx.
//
// Behaviour, as Spin's crates/factor-outbound-pg:
//
//   - Addresses are libpq connection strings: postgres:// URLs or
//     key=value strings. Every host in them (several hosts = fallbacks) is
//     checked against allowed_outbound_hosts as postgres://host:port before
//     any connection attempt; Unix sockets are refused. A refused address
//     is connection-failed("address postgres://host:port is not permitted").
//   - The host's own settings and credentials are never used, as Spin's
//     driver (tokio-postgres) reads no environment: pgx would fill what an
//     address leaves out from the redspin process's PG* variables, a
//     service file, ~/.pgpass or ~/.postgresql, so an address gets Spin's
//     defaults for what it does not give (port 5432, sslmode prefer, no
//     client certificate or CA file, any target session) and a missing
//     host (connection-failed), user, password, database or
//     application_name/options/timezone stays missing (address.go);
//     client certificates are not sent. PGSERVICE and the protocol and
//     authentication variables (PGSSLNEGOTIATION, PGCHANNELBINDING,
//     PGREQUIREAUTH, PG{MIN,MAX}PROTOCOLVERSION) are not neutralised.
//   - TLS: sslmode=disable connects in plain text; any other sslmode
//     (including the default, prefer) uses TLS verified against the system
//     roots plus, in 4.1+, the connection builder's set-ca-root
//     certificate. prefer and allow still fall back to plain text when the
//     TLS attempt fails, as libpq does.
//   - Parameters: 4.x conversions (uuid, jsonb, decimal, ranges, arrays,
//     interval); invalid ones are bad-parameter in query and
//     value-conversion-failed in execute, as in Spin. Unsigned parameters
//     (2.0.0 and unversioned) are value-conversion-failed("Postgres does
//     not support unsigned integers").
//   - Results: bool, int2/4/8, float4/8, text/varchar/bpchar, bytea,
//     timestamp/timestamptz (datetime), date, time, uuid, jsonb, numeric
//     (decimal), int4/int8/num ranges, int4/int8/numeric/text arrays and
//     interval; any other type is unsupported (4.x: with the value's wire
//     bytes) in a column of type other (4.x: with the type's name).
//   - Errors: query-failed with the server's error (4.x: the structured
//     db-error: severity, SQLSTATE code, message, detail, extras);
//     connection-failed for connection and TLS failures.
//   - Connections belong to one message ([Instance]); when it ends (or the
//     guest drops one) they go back to the Client's pool, as Spin pools them
//     per address, and are reset before reuse (session settings, temporary
//     tables, prepared statements, advisory locks, LISTENs); one left inside
//     a transaction is closed instead. At most Config.MaxConnections per
//     message (then connection-failed("too many connections")). Query
//     results are capped at Config.MaxResultBytes. Idle connections live
//     until [Client.Close] or the process exits.
package pg
