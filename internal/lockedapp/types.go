package lockedapp

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// LockedApp is Spin's locked application: a fully resolved app, as `spin up`
// hands it to a trigger and as an OCI artifact carries it. Field names and
// JSON keys follow Spin's `crates/locked-app` (locked.rs).
type LockedApp struct {
	// SpinLockVersion is 0 or 1 on input. On output it is recomputed, as
	// Spin does: 1 when MustUnderstand or HostRequirements is set, else 0.
	SpinLockVersion int `json:"spin_lock_version"`
	// MustUnderstand names fields the host must process:
	// "host_requirements" and "component_host_requirements".
	MustUnderstand []string `json:"must_understand,omitempty"`
	// Metadata holds name, version, description, authors, origin, the
	// app-level trigger settings ("triggers": {"redis": {"address": ...}},
	// and the older "trigger": {"type": ..., "address": ...}).
	Metadata map[string]any `json:"metadata,omitempty"`
	// HostRequirements maps a feature to "required" (or "optional", which
	// readers drop).
	HostRequirements map[string]any `json:"host_requirements,omitempty"`
	// Variables are the application variables, by name.
	Variables map[string]Variable `json:"variables,omitempty"`
	// Triggers lists every trigger; never omitted.
	Triggers []Trigger `json:"triggers"`
	// Components lists every component; never omitted.
	Components []Component `json:"components"`
}

// Variable is an application variable. A nil Default means required.
type Variable struct {
	Description *string `json:"description,omitempty"`
	Default     *string `json:"default,omitempty"`
	Secret      bool    `json:"secret,omitempty"`
}

// Trigger is one trigger: its type-specific settings are in Config (for
// Redis: component, channel and an optional address).
type Trigger struct {
	ID     string          `json:"id"`
	Type   string          `json:"trigger_type"`
	Config json.RawMessage `json:"trigger_config"`
	// Dependencies are trigger dependencies (middleware), by role.
	Dependencies map[string][]Dependency `json:"trigger_dependencies,omitempty"`
}

// Component is one component.
type Component struct {
	ID string `json:"id"`
	// Metadata holds description, allowed_outbound_hosts,
	// key_value_stores, databases, ai_models and build.
	Metadata map[string]any `json:"metadata,omitempty"`
	Source   Source         `json:"source"`
	// Env is the WASI environment.
	Env map[string]string `json:"env,omitempty"`
	// Files are the mounted files.
	Files []ContentPath `json:"files,omitempty"`
	// Config holds the component variables (templates), by name.
	Config map[string]string `json:"config,omitempty"`
	// Dependencies are the component's dependencies, by name.
	Dependencies map[string]Dependency `json:"dependencies,omitempty"`
	// TriggerDependencies are set when trigger dependencies were reassigned
	// to the component.
	TriggerDependencies map[string][]Dependency `json:"trigger_dependencies,omitempty"`
	// HostRequirements are the component's required host features.
	HostRequirements map[string]any `json:"host_requirements,omitempty"`
}

// Source is a Wasm source: a content type and, flattened into the same
// object, a [ContentRef].
type Source struct {
	ContentType string `json:"content_type"`
	ContentRef
}

// ContentPath is content mounted at a guest path (flattened ContentRef plus
// "path").
type ContentPath struct {
	ContentRef
	Path string `json:"path"`
}

// ContentRef says where content is: a Source URI (file://, https://), the
// content itself (Inline), and/or the SHA-256 Digest it must have. At least
// one is set.
type ContentRef struct {
	Source string `json:"source,omitempty"`
	Inline Inline `json:"inline,omitzero"`
	Digest string `json:"digest,omitempty"`
}

// Dependency is a component dependency.
type Dependency struct {
	Source Source `json:"source"`
	// Export is the dependency's export to use; Spin writes null when unset.
	Export *string `json:"export"`
	// Inherit is "All" or {"Some": [...]}; nil means inherit nothing.
	Inherit json.RawMessage `json:"inherit,omitempty"`
}

// Inline is content carried in the JSON as base64 (standard alphabet,
// written without padding as Spin does; padded input is accepted). A nil
// Inline is absent; a non-nil empty one is present and empty.
type Inline []byte

// IsZero reports an absent Inline (nil), so that empty content is still
// written.
func (b Inline) IsZero() bool { return b == nil }

// MarshalJSON writes unpadded standard base64.
func (b Inline) MarshalJSON() ([]byte, error) {
	return json.Marshal(base64.RawStdEncoding.EncodeToString(b))
}

// UnmarshalJSON reads standard base64 with or without padding.
func (b *Inline) UnmarshalJSON(data []byte) error {
	var s *string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("inline content: %w", err)
	}
	if s == nil {
		*b = nil
		return nil
	}
	dec, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(*s, "="))
	if err != nil {
		return fmt.Errorf("inline content is not base64: %w", err)
	}
	if dec == nil {
		dec = []byte{}
	}
	*b = dec
	return nil
}
