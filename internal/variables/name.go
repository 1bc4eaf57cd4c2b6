package variables

import (
	"errors"
	"strings"

	"github.com/redspin/redspin/internal/diag"
)

// ErrInvalidName is wrapped by [ValidateName] errors.
var ErrInvalidName = errors.New("invalid variable name")

// ValidateName checks a variable name against Spin's rules: only lower-case
// ASCII letters, digits and '_'; starting with a letter; ending with a
// letter or digit; no "__". The error text is Spin's, e.g.
// `invalid variable name: "1x": must start with a lowercase ASCII letter`.
func ValidateName(name string) error {
	bad := strings.IndexFunc(name, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_')
	})
	var reason string
	switch {
	case name == "":
		reason = "must not be empty"
	case bad >= 0:
		c := []rune(name[bad:])[0]
		reason = diag.Sprintf("invalid character %q. Variable names may contain only lower-case letters, numbers, and underscores.", c)
	case !(name[0] >= 'a' && name[0] <= 'z'):
		reason = "must start with a lowercase ASCII letter"
	case name[len(name)-1] == '_':
		reason = "must end with a lowercase ASCII letter or digit"
	case strings.Contains(name, "__"):
		reason = "must not contain multiple consecutive underscores"
	default:
		return nil
	}
	return diag.Errorf("%w: %q: %s", ErrInvalidName, name, reason)
}
