// Package sqlite implements Spin's SQLite interface in plain Go, on the
// pure-Go modernc.org/sqlite driver: the databases of an app (the `default`
// one at <state-dir>/sqlite_db.db, others from runtime config
// `[sqlite_database.<label>]`), the component's `sqlite_databases` access
// list, and per-message connection tables.
//
// It follows Spin's host (crates/factor-sqlite, crates/sqlite-inproc):
//   - open(label) is access-denied unless the component lists the label;
//     every label a component lists must be configured, checked at load.
//   - Each open is a new database connection, opened lazily on first use;
//     an in-memory database ("no path") is therefore private to that
//     connection, as in Spin.
//   - execute prepares one statement, binds the parameters and returns the
//     column names and every row; every driver error is io(message).
//   - ATTACH of a file is denied unless allow_attach_file is set (":memory:"
//     and "" stay allowed); files wait up to 5 s for a lock (busy timeout).
//   - A message may hold 256 connections; they are closed when it ends.
package sqlite
