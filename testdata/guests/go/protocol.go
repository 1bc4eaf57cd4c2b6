package main

// The payload protocol of the test guests (../README.md), shared by the
// hand-written guest (main.go) and the SDK guest (../go-sdk, by symlink).

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

type outcome int

const (
	ok outcome = iota
	errError
	errSuccess
)

func handle(msg []byte) outcome {
	text := string(msg)
	cmd, arg, _ := strings.Cut(text, ":")
	switch cmd {
	case "print":
		fmt.Println(arg)
	case "stderr":
		fmt.Fprintln(os.Stderr, arg)
	case "fail":
		return errError
	case "errsuccess":
		return errSuccess
	case "trap":
		panic("trap requested") // Go prints the panic and exits with code 2
	case "loop":
		for {
		}
	case "alloc":
		return allocMiB(arg)
	case "env":
		if v, found := os.LookupEnv(arg); found {
			fmt.Println(v)
		} else {
			fmt.Fprintf(os.Stderr, "unset:%s\n", arg)
		}
	case "file":
		data, err := os.ReadFile(arg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "file:%s: %v\n", arg, err)
			return errError
		}
		if len(data) == 0 || data[len(data)-1] != '\n' {
			data = append(data, '\n')
		}
		os.Stdout.Write(data)
	case "len":
		fmt.Printf("len=%d\n", len(msg))
	default:
		fmt.Printf("%s got %d bytes\n", name, len(msg))
	}
	return ok
}

var sink []byte

// allocMiB allocates and touches n MiB. Go cannot recover from running out of memory:
// when the allocation fails the runtime prints "fatal error: out of memory" and exits.
func allocMiB(arg string) outcome {
	mib, err := strconv.Atoi(arg)
	if err != nil || mib <= 0 {
		fmt.Fprintf(os.Stderr, "alloc:%s: want a positive number of MiB\n", arg)
		return errError
	}
	if mib >= 4096 {
		fmt.Fprintf(os.Stderr, "alloc:%d: out of memory\n", mib)
		return errError
	}
	sink = make([]byte, mib<<20)
	for i := 0; i < len(sink); i += 4096 {
		sink[i] = 1
	}
	sink = nil
	fmt.Printf("alloc:%d ok\n", mib)
	return ok
}
