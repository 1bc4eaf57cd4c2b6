// Package rdbms holds what Spin's PostgreSQL and MySQL interfaces share:
// the values, columns and row sets of every rdbms-types version in one Go
// form, how each interface version narrows them, the error variant, the
// per-message connection table and the allowed_outbound_hosts check.
//
// # Versions
//
// One [Value] type covers every case of every version (the case names are
// the WIT names). The adapters lift a guest's parameters into it and lower
// results with [Version.Value] and [Version.DataType], which turn a case the
// version does not have into unsupported / other, exactly as Spin's host
// converts its newest types down:
//
//	V1     unversioned fermyon:spin/rdbms-types, Spin 1.x outbound-pg/-mysql
//	V2     fermyon:spin/rdbms-types@2.0.0 (and spin:mysql@3.0.0's types)
//	PG3    spin:postgres/postgres@3.0.0: + date, time, datetime, timestamp; no unsigned
//	PG4    spin:postgres/postgres@4.x: + uuid, jsonb, decimal, ranges, arrays, interval
//
// # Errors
//
// [Error] is the error variant: connection-failed, bad-parameter,
// query-failed, value-conversion-failed, other (the unversioned variants add
// a success case first and call the last one other-error; 4.x query-failed
// carries a structured [DBError]).
package rdbms
