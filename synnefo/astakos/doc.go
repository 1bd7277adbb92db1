// Package astakos is the client of Synnefo's identity service (Astakos, an OpenStack Keystone v2.0 subset
// plus the Synnefo account API): it authenticates a token (POST /tokens), caches the access document and
// its service catalogue per client, finds service endpoint URLs by type the way kamaki's
// CachedAstakosClient does, reports the user's info, resolves user UUIDs to display names and back through
// the account service's user_catalogs (cached), reads the account quotas and the resource catalogue,
// and manages projects and memberships (create, modify, join, accept, leave).
package astakos
