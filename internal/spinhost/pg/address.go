package pg

import (
	"net/url"
	"strings"
)

// given returns the libpq settings an address (a postgres:// URL or a
// key=value string) sets itself, by their pgconn names ("user",
// "password", "host", "port", "database", "sslmode", query and key names
// as written otherwise). Only presence matters: pgx parses the values.
func given(address string) map[string]bool {
	keys := map[string]bool{}
	add := func(k string) {
		if k == "dbname" {
			k = "database"
		}
		keys[k] = true
	}
	rest, isURL := strings.CutPrefix(address, "postgresql://")
	if !isURL {
		rest, isURL = strings.CutPrefix(address, "postgres://")
	}
	if !isURL {
		for _, kv := range keyValues(address) {
			add(kv)
		}
		return keys
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		user, _, hasPass := strings.Cut(authority[:at], ":")
		if user != "" {
			add("user")
		}
		if hasPass {
			add("password")
		}
		authority = authority[at+1:]
	}
	for _, h := range strings.Split(authority, ",") {
		host, port := h, ""
		if i := strings.LastIndex(h, ":"); i >= 0 && !strings.HasSuffix(h, "]") {
			host, port = h[:i], h[i+1:]
		}
		if host != "" {
			add("host")
		}
		if port != "" {
			add("port")
		}
	}
	path, query, _ := strings.Cut(tail, "?")
	if strings.TrimPrefix(path, "/") != "" {
		add("database")
	}
	if q, err := url.ParseQuery(query); err == nil {
		for k := range q {
			add(k)
		}
	}
	return keys
}

// keyValues returns the keys of a key=value connection string ('quoted'
// values may hold spaces, \' and \\).
func keyValues(s string) []string {
	var keys []string
	for {
		s = strings.TrimLeft(s, " \t\n\r\f\v")
		if s == "" {
			return keys
		}
		i := strings.IndexAny(s, "= \t\n\r\f\v")
		if i < 0 {
			return append(keys, s)
		}
		keys = append(keys, s[:i])
		s = strings.TrimLeft(s[i:], " \t\n\r\f\v")
		s = strings.TrimPrefix(s, "=")
		s = strings.TrimLeft(s, " \t\n\r\f\v")
		if strings.HasPrefix(s, "'") {
			j := 1
			for ; j < len(s) && s[j] != '\''; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			s = s[min(j+1, len(s)):]
		} else if j := strings.IndexAny(s, " \t\n\r\f\v"); j >= 0 {
			s = s[j:]
		} else {
			s = ""
		}
	}
}

// spinDefaults are the settings Spin's driver (tokio-postgres) uses when an
// address leaves them out, where pgx would read the redspin process's
// environment (PGSSLMODE, PGPORT, PGTARGETSESSIONATTRS, PGSSLROOTCERT…) or
// home directory (~/.postgresql client certificates): they are added to an
// address that does not set them, before pgx parses it.
var spinDefaults = [][2]string{
	{"sslmode", "prefer"}, {"port", "5432"}, {"target_session_attrs", "any"},
	{"sslrootcert", ""}, {"sslcert", ""}, {"sslkey", ""}, {"passfile", ""},
}

// withSpinDefaults returns the address with spinDefaults added for the
// settings it does not give.
func withSpinDefaults(address string, keys map[string]bool) string {
	isURL := strings.HasPrefix(address, "postgres://") || strings.HasPrefix(address, "postgresql://")
	var add []string
	for _, kv := range spinDefaults {
		if keys[kv[0]] {
			continue
		}
		if kv[1] == "" && !isURL {
			kv[1] = "''"
		}
		add = append(add, kv[0]+"="+kv[1])
	}
	if len(add) == 0 {
		return address
	}
	if !isURL {
		// Earlier keys lose to later ones: the address's own come last.
		return strings.Join(add, " ") + " " + address
	}
	sep := "?"
	if strings.Contains(address, "?") {
		sep = "&"
	}
	return address + sep + strings.Join(add, "&")
}
