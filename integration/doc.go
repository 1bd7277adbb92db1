// Package integration holds the end-to-end tests: they start real servers (the local cloud, an OpenStack
// Swift on 127.0.0.1 via scripts/swift-aio.sh), run third-party clients and the pithosfs binary against them,
// and drive mounts with ordinary tools. The package has no non-test code; the shared harness lives in
// harness_test.go.
package integration
