// Package app turns a loaded manifest into a resolved application: the step
// between parsing (package manifest) and running (packages host and trigger).
//
// Resolution applies the command line (-c, -e, --variable), reads the runtime
// config, builds the variables provider chain, resolves every Redis trigger's
// address and channel, groups triggers by server and channel, and prepares each
// referenced component's Wasm source, environment and file mounts. Only
// components that some Redis trigger runs are ever read.
//
// Load does all of it once, at startup. Afterwards an [App] changes only
// through [App.ServeEmbedded], which points the embedded server's triggers at
// the started embedded Redis (once, before the App is used to run); an App
// holds no open resources except the staging directory for component files,
// which [App.Close] removes.
package app
