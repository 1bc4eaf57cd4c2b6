//go:build !protocolonly

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/redspin/redspin/sdk/go/kv"
	"github.com/redspin/redspin/sdk/go/redis"
	"github.com/redspin/redspin/sdk/go/spinhttp"
	"github.com/redspin/redspin/sdk/go/variables"
)

// hostCommand runs the commands that use the Spin interfaces, printing one
// line per result; ok is false for other payloads. Arguments are separated
// by '|'; the first is the Redis address or the store label.
//
//	redis:set:ADDR|KEY|VALUE   redis:get:ADDR|KEY   redis:incr:ADDR|KEY
//	redis:del:ADDR|KEY...      redis:sadd:ADDR|KEY|V...   redis:srem:ADDR|KEY|V...
//	redis:smembers:ADDR|KEY    redis:publish:ADDR|CHANNEL|PAYLOAD
//	redis:execute:ADDR|CMD|ARG...  (an ARG "#N" is the integer N)
//	kv:set:LABEL|KEY|VALUE  kv:get:LABEL|KEY  kv:delete:LABEL|KEY
//	kv:exists:LABEL|KEY     kv:keys:LABEL
//	var:NAME
//	http:METHOD|URL|BODY|Name: value...  (BODY "-" for none) through net/http and spinhttp
//	big:N                   set then get N bytes through redis (ADDR in var redis_address)
func hostCommand(payload []byte) (err error, ok bool) {
	iface, rest, _ := bytes.Cut(payload, []byte(":"))
	switch string(iface) {
	case "redis":
		op, args, _ := strings.Cut(string(rest), ":")
		return redisCommand(op, strings.Split(args, "|")), true
	case "kv":
		op, args, _ := strings.Cut(string(rest), ":")
		return kvCommand(op, strings.Split(args, "|")), true
	case "http":
		return httpCommand(strings.Split(string(rest), "|")), true
	case "var":
		v, err := variables.Get(string(rest))
		if err != nil {
			return err, true
		}
		fmt.Printf("var=%s\n", v)
		return nil, true
	}
	return nil, false
}

func redisCommand(op string, args []string) error {
	c, err := redis.Open(args[0])
	if err != nil {
		return err
	}
	defer c.Close()
	switch op {
	case "set":
		return c.Set(args[1], []byte(args[2]))
	case "get":
		v, found, err := c.Get(args[1])
		if err != nil {
			return err
		}
		fmt.Printf("get found=%t value=%q\n", found, v)
	case "incr":
		n, err := c.Incr(args[1])
		if err != nil {
			return err
		}
		fmt.Printf("incr=%d\n", n)
	case "del":
		n, err := c.Del(args[1:]...)
		if err != nil {
			return err
		}
		fmt.Printf("del=%d\n", n)
	case "sadd", "srem":
		f := c.SAdd
		if op == "srem" {
			f = c.SRem
		}
		n, err := f(args[1], args[2:]...)
		if err != nil {
			return err
		}
		fmt.Printf("%s=%d\n", op, n)
	case "smembers":
		m, err := c.SMembers(args[1])
		if err != nil {
			return err
		}
		sort.Strings(m)
		fmt.Printf("smembers=%q\n", m)
	case "publish":
		return c.Publish(args[1], []byte(args[2]))
	case "execute":
		var params []redis.Param
		for _, a := range args[2:] {
			if n, err := strconv.ParseInt(strings.TrimPrefix(a, "#"), 10, 64); err == nil && strings.HasPrefix(a, "#") {
				params = append(params, redis.Int(n))
			} else {
				params = append(params, redis.String(a))
			}
		}
		res, err := c.Execute(args[1], params...)
		if err != nil {
			return err
		}
		for _, r := range res {
			switch r.Kind {
			case redis.Nil:
				fmt.Println("result nil")
			case redis.Status:
				fmt.Printf("result status %s\n", r.Status)
			case redis.Int64:
				fmt.Printf("result int %d\n", r.Int)
			case redis.Binary:
				fmt.Printf("result binary %q\n", r.Bytes)
			}
		}
	case "big":
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return err
		}
		want := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		if err := c.Set("big", want); err != nil {
			return err
		}
		got, _, err := c.Get("big")
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("big: got %d bytes back, not the %d set", len(got), n)
		}
		fmt.Printf("big=%d\n", len(got))
	default:
		return errors.New("unknown redis op " + op)
	}
	return nil
}

func kvCommand(op string, args []string) error {
	s, err := kv.Open(args[0])
	if err != nil {
		return err
	}
	defer s.Close()
	switch op {
	case "set":
		return s.Set(args[1], []byte(args[2]))
	case "get":
		v, found, err := s.Get(args[1])
		if err != nil {
			return err
		}
		fmt.Printf("kv get found=%t value=%q\n", found, v)
	case "delete":
		return s.Delete(args[1])
	case "exists":
		ok, err := s.Exists(args[1])
		if err != nil {
			return err
		}
		fmt.Printf("kv exists=%t\n", ok)
	case "keys":
		keys, err := s.Keys()
		if err != nil {
			return err
		}
		fmt.Printf("kv keys=%q\n", keys)
	default:
		return errors.New("unknown kv op " + op)
	}
	return nil
}

// httpCommand sends one request with a net/http client on spinhttp's
// transport and prints the status, the X-Echo header and the body (its
// length when over 256 bytes); a host error also prints its kind.
func httpCommand(args []string) error {
	var body io.Reader
	if len(args) > 2 && args[2] != "-" {
		body = strings.NewReader(args[2])
	}
	req, err := http.NewRequest(strings.ToUpper(args[0]), args[1], body)
	if err != nil {
		return err
	}
	for _, h := range args[min(3, len(args)):] {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	resp, err := spinhttp.NewClient().Do(req)
	if err != nil {
		var he *spinhttp.Error
		if errors.As(err, &he) {
			fmt.Printf("http error kind=%s\n", he.Kind)
		}
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if len(b) > 256 {
		fmt.Printf("http status=%d body-len=%d\n", resp.StatusCode, len(b))
		return nil
	}
	fmt.Printf("http status=%d x-echo=%q body=%q\n", resp.StatusCode, resp.Header.Get("X-Echo"), b)
	return nil
}
