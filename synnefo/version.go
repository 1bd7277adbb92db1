package synnefo

import (
	"regexp"
	"strings"
)

var versionSuffix = regexp.MustCompile(`/v(\d+(?:\.\d+)?)$`)

// SplitVersion applies kamaki's strip_version rule: a trailing "/" is dropped and, when the URL ends in
// "/v<digits>[.<digits>]", that suffix is the API version. It returns the URL without the version and the
// version without its "v" ("" when there is none).
func SplitVersion(endpointURL string) (base, version string) {
	u := strings.TrimRight(endpointURL, "/")
	m := versionSuffix.FindStringSubmatchIndex(u)
	if m == nil {
		return u, ""
	}
	return u[:m[0]], u[m[2]:m[3]]
}

// VersionedEndpoint applies kamaki's Client.__init__ fix-up: a trailing "/" is dropped and, when the URL
// does not end in "/v<digits>[.<digits>]", "/v"+defaultVersion is appended. E.g. the catalogue's
// ".../cyclades/image" becomes ".../cyclades/image/v1.0" with default "1.0".
func VersionedEndpoint(endpointURL, defaultVersion string) string {
	u := strings.TrimRight(endpointURL, "/")
	if versionSuffix.MatchString(u) || defaultVersion == "" {
		return u
	}
	return u + "/v" + strings.TrimPrefix(defaultVersion, "v")
}
