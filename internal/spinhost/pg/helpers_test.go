package pg

import (
	"errors"
	"time"
)

func asErr(err error, target any) bool { return errors.As(err, target) }

func sleepShort() { time.Sleep(10 * time.Millisecond) }
