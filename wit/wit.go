// Package wit embeds the WIT packages of the interfaces redspin serves
// (deps/), for tools that write them out, such as `redspin new`.
package wit

import "embed"

// Deps holds deps/<package>/*.wit, the folder a WIT world next to it
// resolves its imports from.
//
//go:embed deps
var Deps embed.FS
