package variables

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/redspin/redspin/internal/diag"
)

// ParseCLI turns --variable flag values into the highest-priority provider.
// Each value is one of:
//
//	KEY=VALUE     the value as given
//	KEY=@FILE     the contents of FILE
//	@FILE.json    a JSON object of string values
//	@FILE.toml    a TOML table of string values
//
// A later flag overrides an earlier one for the same key. Files are read
// now, relative to the working directory.
//
// # Errors
//
// Errors name the flag or file and never contain values: a flag without
// "=", an invalid variable name (see [ValidateName]), an unreadable file, a
// @file that is not .json or .toml, a file that is not a map of strings.
func ParseCLI(args []string) (Provider, error) {
	values := map[string]string{}
	set := func(src, key, value string) error {
		if err := ValidateName(key); err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		values[key] = value
		return nil
	}
	for _, arg := range args {
		if path, ok := strings.CutPrefix(arg, "@"); ok {
			m, err := readVarFile(path)
			if err != nil {
				return nil, fmt.Errorf("--variable @%s: %w", path, err)
			}
			for k, v := range m {
				if err := set("--variable @"+path, k, v); err != nil {
					return nil, err
				}
			}
			continue
		}
		key, value, ok := strings.Cut(arg, "=")
		if !ok {
			return nil, diag.Errorf("--variable %q: want KEY=VALUE, KEY=@file, @file.json or @file.toml", arg)
		}
		src := fmt.Sprintf("--variable %s=...", key)
		if path, ok := strings.CutPrefix(value, "@"); ok {
			data, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("%s: read value file: %w", src, err)
			}
			value = string(data)
		}
		if err := set(src, key, value); err != nil {
			return nil, err
		}
	}
	return NewStatic("--variable", values), nil
}

// readVarFile reads a JSON or TOML file that maps variable names to strings.
func readVarFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("not a JSON object of string values: %w", err)
		}
	case ".toml":
		if err := toml.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("not a TOML table of string values: %w", err)
		}
	default:
		return nil, diag.Errorf("unsupported file type %q: use a .json or .toml file, or KEY=@file for one value", filepath.Ext(path))
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		s, ok := v.(string)
		if !ok {
			return nil, diag.Errorf("value of %q must be a string, not %s", k, typeName(v))
		}
		out[k] = s
	}
	return out, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, int64:
		return "a number"
	case map[string]any:
		return "a table"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}
