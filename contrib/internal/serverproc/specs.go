package serverproc

import "strconv"

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
