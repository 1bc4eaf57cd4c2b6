//go:build protocolonly

package main

func hostCommand([]byte) (error, bool) { return nil, false }
