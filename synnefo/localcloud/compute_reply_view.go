package localcloud

// The compute API's smaller replies, typed: the envelopes around a server,
// a flavor, metadata or a password, consoles, key pairs and diagnostics.
// Fields are declared in the order of their JSON keys, the order the maps
// they replace were written in, so the bytes are unchanged.

type flavorsReply[T any] struct {
	Flavors []T `json:"flavors"`
}

type flavorReply struct {
	Flavor *flavorDetail `json:"flavor"`
}

// extraSpecsReply is a flavor's os-extra_specs: always empty here.
type extraSpecsReply struct {
	ExtraSpecs map[string]string `json:"extra_specs"`
}

type serverReply struct {
	Server *serverDetail `json:"server"`
}

type metadataReply struct {
	Metadata map[string]string `json:"metadata"`
}

// metaReply is one metadata item, {"meta": {key: value}}.
type metaReply struct {
	Meta map[string]string `json:"meta"`
}

type passwordReply struct {
	Password string `json:"password"`
}

// networkAddressesReply is GET /servers/<id>/ips/<network>: that network's
// addresses under its id.
type networkAddressesReply struct {
	Network map[string][]serverAddress `json:"network"`
}

type serverStats struct {
	CPUBar        string `json:"cpuBar"`
	CPUTimeSeries string `json:"cpuTimeSeries"`
	NetBar        string `json:"netBar"`
	NetTimeSeries string `json:"netTimeSeries"`
	Refresh       int    `json:"refresh"`
	ServerRef     int64  `json:"serverRef"`
}

type serverStatsReply struct {
	Stats serverStats `json:"stats"`
}

// diagnostic is one entry of a server's diagnostics (stored with the
// server, shown as they were stored).
type diagnostic struct {
	Created string `json:"created"`
	Details string `json:"details"`
	Level   string `json:"level"`
	Message string `json:"message"`
	Source  string `json:"source"`
}

// vncConsole is the os-getVNCConsole action's console.
type vncConsole struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// serverConsole is the console action's console.
type serverConsole struct {
	Host     string `json:"host"`
	Password string `json:"password"`
	Port     int    `json:"port"`
	Type     string `json:"type"`
}

type consoleReply[T any] struct {
	Console T `json:"console"`
}

// keypairSummary is a key pair as listed and as created (with its private
// key when the cloud generated it).
type keypairSummary struct {
	Fingerprint string `json:"fingerprint"`
	Name        string `json:"name"`
	PrivateKey  string `json:"private_key,omitempty"`
	PublicKey   string `json:"public_key"`
}

// keypairDetail is GET /os-keypairs/<name>.
type keypairDetail struct {
	CreatedAt   string  `json:"created_at"`
	Deleted     bool    `json:"deleted"`
	DeletedAt   *string `json:"deleted_at"`
	Fingerprint string  `json:"fingerprint"`
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	PublicKey   string  `json:"public_key"`
	UpdatedAt   string  `json:"updated_at"`
}

type keypairReply[T any] struct {
	Keypair T `json:"keypair"`
}

type keypairsReply struct {
	Keypairs []keypairReply[keypairSummary] `json:"keypairs"`
}

// apiVersion is one entry of the image service's version list.
type apiVersion struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

type versionsReply struct {
	Versions []apiVersion `json:"versions"`
}
