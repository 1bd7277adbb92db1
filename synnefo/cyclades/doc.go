// Package cyclades holds the clients of Synnefo's Cyclades services, the Go counterparts of kamaki's
// CycladesComputeClient, CycladesNetworkClient and CycladesBlockStorageClient: ComputeClient (servers,
// actions, metadata, flavors, the compute view of images, WaitServer), NetworkClient (networks, subnets,
// ports, floating IPs) and BlockStorageClient (volumes, snapshots, volume types). Each follows the wire
// formats of cyclades-api.md and applies kamaki's endpoint version rule to the catalogue URL it is given.
package cyclades
