package manifest

// CheckComponentID reports whether id is a valid component ID by Spin's
// rules (kebab-case words that start with an ASCII letter), with Spin's
// message when it is not. `redspin new` checks the names it is given with it.
func CheckComponentID(id string) error { return checkComponentID(id) }
