// Package mysql is Spin's outbound MySQL host (fermyon:spin/mysql@2.0.0,
// the unversioned fermyon:spin/mysql and Spin 1.x outbound-mysql) in plain
// Go, on go-sql-driver/mysql.
//
// Behaviour, as Spin's crates/factor-outbound-mysql:
//
//   - Addresses are mysql://user:password@host[:port]/database[?params]
//     URLs. The address is checked against allowed_outbound_hosts (mysql://,
//     default port 3306) before any connection attempt; a refused address
//     is connection-failed("address <address> is not permitted"), with the
//     password shown as "xxxxx".
//   - TLS: an ssl-mode or sslmode query parameter (any case) other than
//     DISABLED turns on TLS verified against the system roots; other query
//     parameters are ignored.
//   - Parameters: every rdbms-types@2.0.0 case, unsigned included.
//   - Results, by column type: TINYINT…BIGINT (signed or unsigned), FLOAT,
//     DOUBLE, CHAR/VARCHAR/TEXT (str, or binary with a binary collation),
//     BINARY/VARBINARY/BLOB (binary); any other column type (DECIMAL, DATE,
//     JSON, …) is other, and a non-NULL value in it fails the query with
//     value-conversion-failed, as in Spin.
//   - Errors: query-failed for statements the server rejects,
//     connection-failed for connection failures, other for errors while
//     reading rows and results over Config.MaxResultBytes.
//   - Connections belong to one message ([Instance]) and close with it, at
//     most Config.MaxConnections at once.
package mysql
