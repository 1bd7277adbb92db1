// Package examples holds the scripts of kamaki's guide "Creating applications with kamaki API" rewritten
// as Go programs over this module's clients, one directory each:
//
//	serverinfo      print a server's name and OS, then the objects of a container (with the guide's error handling)
//	batchcreate     create several servers without networks, then wait for each to build
//	registerimages  register every object of a container as an image
//	privatenetwork  a new MAC_FILTERED network and two servers on it
//	snapshotbackup  snapshot a server's root volume, find the snapshot's pithos:// location, download it
//	restoreserver   upload a local image file, register it and create a server from it
//
// Every program takes the cloud the way kamaki takes its configuration: an identity (Astakos) URL and a
// token, from the -url and -token flags or the PITHOSFS_URL and PITHOSFS_TOKEN environment variables,
// else from kamaki's configuration file (-config, else $KAMAKI_CONFIG, else ~/.kamakirc: the -cloud
// section, else its default_cloud); and optionally a CA bundle (-ca-certs FILE or PITHOSFS_CA_FILE, else
// ca_certs of that cloud's section or [global]: the guide's "secure connections"; -insecure or
// ignore_ssl = on skips verification). Errors are reported the guide's way: the message, then
// "- error code: N" and one "- DETAIL" line per detail of a *synnefo.ClientError.
// Each program's test runs it against a fresh local cloud (synnefo/localcloud).
package examples
