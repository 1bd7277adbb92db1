// Package metrics owns a mount's Prometheus metrics and its HTTP request
// log: a RoundTripper that counts every request to the cloud by service,
// verb and status, the bytes moved, the bytes a hashmap commit did not have
// to upload because the server already had the blocks (dedup savings) and
// commit latency, and the Tally of requests by kind that .pithosfs/stats.json
// shows (the fs package renders it, not knowing HTTP), and logs each request with its path, status and request
// id — never the token; plus the /metrics endpoint, which only listens on
// loopback unless told otherwise.
package metrics
