package wasm

import (
	"fmt"

	"github.com/redspin/redspin/internal/spinhost/kv"
	"github.com/redspin/redspin/internal/spinhost/outredis"
	"github.com/redspin/redspin/internal/spinhost/vars"
)

// Error lowering for each interface's error type. Case indices are WIT
// order; case names are the component-model names.

var redisCaseNames = []string{"invalid-address", "too-many-connections", "type-error", "other"}

func redisErr(err error) errCase {
	k := outredis.KindOf(err)
	if k == outredis.KindOther {
		return errCase{idx: uint8(k), msg: outredis.MessageOf(err), hasMsg: true}
	}
	return errCase{idx: uint8(k)}
}

// legacyRedisErr is the unversioned enum error { success, error }: always
// error.
func legacyRedisErr(error) errCase { return errCase{idx: 1} }

var varsCaseNames = []string{"invalid-name", "undefined", "provider", "other"}

func varsErr(err error) errCase {
	return errCase{idx: uint8(vars.KindOf(err)), msg: vars.MessageOf(err), hasMsg: true}
}

var configCaseNames = []string{"provider", "invalid-key", "invalid-schema", "other"}

func configErr(err error) errCase {
	c, m := vars.ConfigCase(err)
	return errCase{idx: c, msg: m, hasMsg: true}
}

var wasiConfigCaseNames = []string{"upstream", "io"}

func wasiConfigErr(err error) errCase {
	c, m := vars.WASICase(err)
	return errCase{idx: c, msg: m, hasMsg: true}
}

var kvCaseNames = []string{"store-table-full", "no-such-store", "access-denied", "other"}

// kvErr lowers a key-value@2.0.0 error. An unknown store handle cannot
// happen through the component model's resource table; for core modules it
// traps, as Spin does.
func kvErr(err error) (errCase, error) {
	switch k := kv.KindOf(err); k {
	case kv.KindStoreTableFull, kv.KindNoSuchStore, kv.KindAccessDenied:
		return errCase{idx: uint8(k)}, nil
	case kv.KindInvalidStore:
		return errCase{}, fmt.Errorf("key-value: %w", err)
	}
	return errCase{idx: uint8(kv.KindOther), msg: kv.MessageOf(err), hasMsg: true}, nil
}

var legacyKVCaseNames = []string{"store-table-full", "no-such-store", "access-denied", "invalid-store", "no-such-key", "io"}

func legacyKVErr(err error) errCase {
	c, m := kv.LegacyCase(err)
	return errCase{idx: c, msg: m, hasMsg: c == kv.LegacyIO}
}

var wasiKVCaseNames = []string{"no-such-store", "access-denied", "other"}

func wasiKVErr(err error) errCase {
	c, m := kv.WASICase(err)
	return errCase{idx: c, msg: m, hasMsg: c == kv.WASIOther}
}
