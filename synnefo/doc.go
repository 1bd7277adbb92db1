// Package synnefo owns the HTTP plumbing shared by every Synnefo service client (Astakos, Pithos+,
// Cyclades, Plankton): building requests against a service endpoint with the X-Auth-Token header,
// segment-wise path escaping, JSON helpers, retries with exponential backoff and jitter for idempotent
// requests, a pooled http.Client with sane timeouts and verified TLS (optionally with an extra CA
// bundle or an explicit insecure switch), kamaki's endpoint version fix-up, and the one error type
// every client returns, *ClientError, parsed from the services' fault bodies.
package synnefo
