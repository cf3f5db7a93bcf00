package serverproc

import (
	"strconv"
	"syscall"
)

// Redis runs redis-server without persistence.
var Redis = Spec{
	Binary: "redis-server", Package: "redis-server", Ports: 1,
	Args: func(ports []int, dir string) []string {
		return []string{"--port", strconv.Itoa(ports[0]), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"}
	},
}

// Etcd runs a one-member etcd cluster, with a fast heartbeat and election so
// that it is ready in well under a second.
var Etcd = Spec{
	Binary: "etcd", Package: "etcd-server", Ports: 2,
	Args: func(ports []int, dir string) []string {
		client := "http://127.0.0.1:" + strconv.Itoa(ports[0])
		peer := "http://127.0.0.1:" + strconv.Itoa(ports[1])
		return []string{"--name", "mixin", "--data-dir", dir + "/data",
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", "mixin=" + peer,
			"--heartbeat-interval", "10", "--election-timeout", "50",
			"--logger", "zap", "--log-level", "error"}
	},
}

// PostgreSQL runs a cluster that initdb makes in the data directory, as the
// user nobody when the tests run as root (PostgreSQL refuses root): TCP on
// 127.0.0.1 only, its unix socket in the data directory, trust
// authentication for the superuser "mixin" and no fsync (the tests' data
// outlives a killed server, not a crashed machine; commits stay
// synchronous, so that a killed server keeps every commit it answered).
// Stop is an immediate shutdown (SIGQUIT), which ends the backends too: a
// SIGKILL of the postmaster alone leaves them running until they notice,
// holding the shared memory a restart needs. The binaries are those
// in PATH or Debian's, /usr/lib/postgresql/<version>/bin.
var PostgreSQL = Spec{
	Binary: "postgres", Package: "postgresql", Ports: 1,
	Search: []string{"/usr/lib/postgresql/*/bin"},
	Init: func(bin, dir string) []string {
		return []string{bin + "/initdb", "--pgdata", dir + "/data", "--username", "mixin",
			"--auth", "trust", "--encoding", "UTF8", "--no-locale", "--no-sync"}
	},
	Args: func(ports []int, dir string) []string {
		return []string{"-D", dir + "/data", "-p", strconv.Itoa(ports[0]), "-k", dir,
			"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
			"-c", "full_page_writes=off", "-c", "max_connections=400", "-c", "shared_buffers=32MB"}
	},
	Ready: func(bin string, ports []int, _ string) []string {
		return []string{bin + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(ports[0]), "-U", "mixin", "-d", "postgres"}
	},
	Unprivileged: true,
	Stop:         syscall.SIGQUIT,
}
