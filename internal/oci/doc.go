// Package oci pulls and pushes Spin applications stored as OCI artifacts,
// in the format `spin registry push` writes, using go-containerregistry.
//
// # Format
//
// An app is one OCI image manifest. Current Spin puts the locked app in a
// layer of media type [MediaTypeLockedApp] and uses a standard OCI config
// (architecture "wasm", os "wasip1", label [LabelLockedAppDigest] holding
// the locked app layer's digest); older Spin put the locked app in the config
// blob itself. [Client.Pull] accepts both. Component Wasm are layers of
// [MediaTypeWasm] (or [MediaTypeWasmWkg]); files are [MediaTypeData] layers,
// except files of [InlineMax] bytes or less, which are inlined in the locked
// app, and except in archive mode ([MediaTypeArchive]: one tar+gzip per
// component, used when asked or when there would be more than
// [MaxLayers]-1 layers).
//
// # Cache
//
// Every blob is verified against its digest and kept in a
// [blobstore.Store]; a pull records which manifest a tag named, so a later
// start works with the registry unreachable (with a warning), and a pull by
// digest never needs the registry once its content is cached.
//
// # Credentials
//
// As Spin finds them: Spin's registry-auth.json (written by `spin registry
// login` and [Login], under the user config dir's fermyon/), then the
// Docker config (DOCKER_CONFIG, ~/.docker/config.json, credential helpers).
package oci

// Media types and labels of Spin's OCI artifacts.
const (
	// MediaTypeLockedApp is the layer (or, in old images, the config) that
	// holds the locked app JSON.
	MediaTypeLockedApp = "application/vnd.fermyon.spin.application.v1+config"
	// MediaTypeWasm is a component's Wasm layer.
	MediaTypeWasm = "application/vnd.wasm.content.layer.v1+wasm"
	// MediaTypeWasmWkg is a Wasm layer as wkg pushes it; accepted on pull.
	MediaTypeWasmWkg = "application/wasm"
	// MediaTypeData is one file of a component.
	MediaTypeData = "application/vnd.wasm.content.layer.v1+data"
	// MediaTypeArchive is a tar+gzip of all the files of one component.
	MediaTypeArchive = "application/vnd.wasm.content.bundle.v1.tar+gzip"
	// MediaTypeOCIConfig is the standard image config media type.
	MediaTypeOCIConfig = "application/vnd.oci.image.config.v1+json"
	// MediaTypeOCIManifest is the image manifest media type pushed.
	MediaTypeOCIManifest = "application/vnd.oci.image.manifest.v1+json"
	// LabelLockedAppDigest is the config label naming the locked app layer.
	LabelLockedAppDigest = "com.fermyon.spin.lockedAppDigest"
	// OriginScheme prefixes the reference in a pulled app's "origin" metadata.
	OriginScheme = "vnd.fermyon.origin-oci"
	// InlineMax is the largest content inlined in the locked app (bytes).
	InlineMax = 128
	// MaxLayers is the most layers an app may have (ECR's limit); above
	// MaxLayers-1 content layers, push switches to archive layers.
	MaxLayers = 500
	// ArchiveLayersEnv forces archive layers on push when set (to anything).
	ArchiveLayersEnv = "SPIN_OCI_ARCHIVE_LAYERS"
)
