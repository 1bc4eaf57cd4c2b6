package templates

import "embed"

// files holds files/<template>/...
//
//go:embed all:files
var files embed.FS
