package dbserver

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// mariadbBin is the MariaDB server binary (Debian's mariadb-server puts
// it in /usr/sbin, which a non-root PATH may lack).
func mariadbBin() string {
	for _, p := range []string{"/usr/sbin/mariadbd", "/usr/sbin/mysqld"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "mariadbd"
}

// MariaDB returns the test binary's MariaDB server, starting it on first
// use (user "spin" with password "spin", all privileges; database "spin";
// TLS with the certificate CAFile signed).
func MariaDB(t testing.TB) *Server {
	t.Helper()
	return shared(t, "mariadb", mariadbBin(), startMariaDB)
}

// MySQLURL is a mysql:// URL for database db, as Spin guests write them.
func (s *Server) MySQLURL(db string) string {
	return fmt.Sprintf("mysql://%s:%s@%s/%s", s.User, s.Password, s.Addr(), db)
}

// DB opens a database/sql handle to database db (for test set-up).
func (s *Server) DB(db string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = s.User, s.Password, "tcp", s.Addr(), db
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

func startMariaDB(bin string) (*Server, error) {
	cred, err := runAs("mysql")
	if err != nil {
		return nil, err
	}
	dir, err := tempDir("redspin-my-", cred)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	installDB, err := findInstallDB()
	if err != nil {
		return nil, err
	}
	if err := run(command(cred, installDB, "--no-defaults", "--datadir="+data, "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve")); err != nil {
		return nil, err
	}
	caFile, err := writeCerts(dir, cred)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 {
		port, err := redisserver.FreePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Port: port, Dir: dir, User: "root", CAFile: caFile}
		cmd := command(cred, bin, "--no-defaults", "--datadir="+data, "--bind-address=127.0.0.1",
			"--port="+fmt.Sprint(port), "--socket="+filepath.Join(dir, "sock"), "--pid-file="+filepath.Join(dir, "pid"),
			"--skip-name-resolve", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
			"--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M", "--skip-performance-schema",
			"--ssl-ca="+caFile, "--ssl-cert="+filepath.Join(dir, "server.pem"), "--ssl-key="+filepath.Join(dir, "server-key.pem"))
		if lastErr = s.launch(cmd, func(ctx context.Context) error {
			db, err := s.DB("")
			if err != nil {
				return err
			}
			defer db.Close()
			return db.PingContext(ctx)
		}); lastErr != nil {
			continue
		}
		if err := s.addUser(); err != nil {
			s.kill()
			return nil, err
		}
		return s, nil
	}
	return nil, lastErr
}

// addUser creates the spin user and database the tests use.
func (s *Server) addUser() error {
	db, err := s.DB("")
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE USER 'spin'@'%' IDENTIFIED BY 'spin'",
		"GRANT ALL ON *.* TO 'spin'@'%'",
		"CREATE DATABASE spin",
	} {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	s.User, s.Password = "spin", "spin"
	return nil
}

func findInstallDB() (string, error) {
	for _, n := range []string{"mariadb-install-db", "mysql_install_db"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("mariadb-install-db not found on PATH")
}
