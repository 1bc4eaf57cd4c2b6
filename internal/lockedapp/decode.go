package lockedapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// ErrUnsupportedFeature is wrapped when a locked app requires something
// redspin does not implement (a must_understand field, a host requirement).
var ErrUnsupportedFeature = errors.New("unsupported locked app feature")

// MaxLockVersion is the highest spin_lock_version understood.
const MaxLockVersion = 1

// understood are the must_understand values redspin processes.
var understood = []string{"host_requirements", "component_host_requirements"}

// spinHostFeatures are the host requirements Spin itself knows; a lock file
// requiring anything else is refused by Spin when it is read.
var spinHostFeatures = []string{"local_service_chaining", "middleware"}

// IsLocked reports whether data is a locked app: a JSON object with a
// `spin_lock_version` key (Spin's own test when reading a pulled config).
func IsLocked(data []byte) bool {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return false
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(data, &probe) != nil {
		return false
	}
	_, ok := probe["spin_lock_version"]
	return ok
}

// IsLockedFile reports whether the file at path is a locked app.
func IsLockedFile(path string) bool {
	data, err := os.ReadFile(path)
	return err == nil && IsLocked(data)
}

// Decode parses a locked app and applies Spin's reading rules: version,
// must_understand, and host requirements Spin does not know. It does not
// check what redspin implements; [LockedApp.Manifest] does.
func Decode(data []byte) (*LockedApp, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not a locked app: %w", err)
	}
	for _, k := range []string{"spin_lock_version", "triggers", "components"} {
		if _, ok := probe[k]; !ok {
			return nil, fmt.Errorf("not a locked app: missing field `%s`", k)
		}
	}
	var v int
	if err := json.Unmarshal(probe["spin_lock_version"], &v); err != nil || v < 0 {
		return nil, fmt.Errorf("spin_lock_version %s: want a non-negative integer", probe["spin_lock_version"])
	}
	if v > MaxLockVersion {
		return nil, fmt.Errorf("%w: spin_lock_version %d is newer than redspin understands (at most %d); use a newer redspin", ErrUnsupportedFeature, v, MaxLockVersion)
	}
	var l LockedApp
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("invalid locked app: %w", err)
	}
	for _, m := range l.MustUnderstand {
		if !slices.Contains(understood, m) {
			return nil, fmt.Errorf("%w: must_understand names %q, which redspin does not understand (it knows %s)", ErrUnsupportedFeature, m, strings.Join(understood, ", "))
		}
	}
	var err error
	if l.HostRequirements, err = hostRequirements(l.HostRequirements); err != nil {
		return nil, err
	}
	for i := range l.Components {
		c := &l.Components[i]
		if c.HostRequirements, err = hostRequirements(c.HostRequirements); err != nil {
			return nil, fmt.Errorf("component %q: %w", c.ID, err)
		}
	}
	return &l, nil
}

// hostRequirements drops "optional" entries and refuses features Spin does
// not know either.
func hostRequirements(hr map[string]any) (map[string]any, error) {
	out := map[string]any{}
	var unknown []string
	for k, v := range hr {
		if v == "optional" {
			continue
		}
		out[k] = v
		if !slices.Contains(spinHostFeatures, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("%w: this version of redspin does not support the following features required by this application: %s", ErrUnsupportedFeature, strings.Join(unknown, ", "))
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// MarshalJSON writes the locked app in Spin's layout; spin_lock_version is 1
// when must_understand or host_requirements is set, else 0, as Spin writes it.
func (l LockedApp) MarshalJSON() ([]byte, error) {
	type plain LockedApp
	p := plain(l)
	p.SpinLockVersion = 0
	if len(l.MustUnderstand) > 0 || len(l.HostRequirements) > 0 {
		p.SpinLockVersion = 1
	}
	if p.Triggers == nil {
		p.Triggers = []Trigger{}
	}
	if p.Components == nil {
		p.Components = []Component{}
	}
	return json.Marshal(p)
}

// Encode writes l as indented JSON, as Spin's to_json does.
func (l *LockedApp) Encode() ([]byte, error) {
	return json.MarshalIndent(l, "", "  ")
}
