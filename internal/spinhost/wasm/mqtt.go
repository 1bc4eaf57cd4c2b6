package wasm

import (
	"errors"
	"fmt"

	"github.com/redspin/redspin/internal/spinhost/mqtt"
	"github.com/redspin/redspin/internal/wasmtime"
)

// modMQTT2 is Spin's outbound MQTT interface (spin:mqtt/mqtt@3.0.0 is
// wholly async: see package cmasync).
const modMQTT2 = "fermyon:spin/mqtt@2.0.0"

func mqttErr(err error) errCase {
	k := mqtt.KindOf(err)
	return errCase{idx: uint8(k), msg: mqtt.MessageOf(err), hasMsg: k.HasMessage()}
}

var qosNames = map[string]mqtt.QoS{"at-most-once": mqtt.AtMostOnce, "at-least-once": mqtt.AtLeastOnce, "exactly-once": mqtt.ExactlyOnce}

var mqttFuncs = map[string]compFunc{
	"[static]connection.open": func(c caller, st *Instance, args, results []wasmtime.Val) error {
		var s [3]string
		for i := range s {
			v, err := argStr(args, i)
			if err != nil {
				return err
			}
			s[i] = v
		}
		if len(args) < 4 || args[3].Kind != wasmtime.CU64 {
			return errArgs
		}
		h, err := st.mqtt.Open(st.ctx, s[0], s[1], s[2], args[3].Num)
		if err != nil {
			results[0] = errV(mqtt.CaseNames, mqttErr(err))
			return nil
		}
		res, err := c.FromHost(true, h, resMQTT)
		if err != nil {
			st.mqtt.Drop(h)
			return err
		}
		results[0] = okV(&res)
		return nil
	},
	"[method]connection.publish": resourceMethod(resMQTT, mqtt.CaseNames, noTrap(mqttErr), func(st *Instance, h uint32, args []wasmtime.Val) (wasmtime.Val, error) {
		topic, payload, err := argStrBytes(args, 1)
		if err != nil {
			return wasmtime.Val{}, err
		}
		if len(args) < 4 || args[3].Kind != wasmtime.CEnum {
			return wasmtime.Val{}, errArgs
		}
		q, ok := qosNames[args[3].Str]
		if !ok {
			return wasmtime.Val{}, fmt.Errorf("unknown qos %q", args[3].Str)
		}
		return okV(nil), st.mqtt.Publish(st.ctx, h, topic, payload, q)
	}),
}

// Core modules: open(address, username, password: 3 × (ptr, len),
// keep-alive: i64, ret); publish(handle, topic (ptr, len), payload (ptr,
// len), qos, ret); results have their payload at 4.
var coreMQTT = map[string]coreImport{
	"[static]connection.open": {8, func(c *coreCall) error {
		var s [3]string
		for i := range s {
			v, err := c.str(2 * i)
			if err != nil {
				return err
			}
			s[i] = v
		}
		ret := c.u(7)
		h, err := c.st.mqtt.Open(c.ctx, s[0], s[1], s[2], c.a[6])
		if err != nil {
			return c.g.putResultErr(ret, 4, mqttErr(err))
		}
		return okU32(c, ret, h)
	}},
	"[method]connection.publish": {7, func(c *coreCall) error {
		topic, payload, err := c.strBytes(1)
		if err != nil {
			return err
		}
		if c.u(5) > uint32(mqtt.ExactlyOnce) {
			return errors.New("qos case is not valid")
		}
		return unit(c, c.u(6), 4, mqttErr, c.st.mqtt.Publish(c.ctx, c.u(0), topic, payload, mqtt.QoS(c.u(5))))
	}},
	"[resource-drop]connection": {1, func(c *coreCall) error {
		c.st.mqtt.Drop(c.u(0))
		return nil
	}},
}

// coreSignature is the core type of a canonical-ABI import with nparams
// flat parameters: i32s and no results, except where a WIT type flattens to
// i64 (sqlite 3.x's last-insert-rowid and changes return one; mqtt's open
// takes its keep-alive as one).
func coreSignature(iface, field string, nparams int) (params, results []wasmtime.ValKind) {
	params = make([]wasmtime.ValKind, nparams)
	for i := range params {
		params[i] = wasmtime.KindI32
	}
	switch {
	case (iface == modSQLite3 || iface == modSQLite31) &&
		(field == "[method]connection.last-insert-rowid" || field == "[method]connection.changes"):
		results = []wasmtime.ValKind{wasmtime.KindI64}
	case iface == modMQTT2 && field == "[static]connection.open":
		params[6] = wasmtime.KindI64
	case coreI32Result[iface+"#"+field]:
		results = []wasmtime.ValKind{wasmtime.KindI32}
	}
	return params, results
}
