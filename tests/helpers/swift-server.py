"""One server of a one-node OpenStack Swift for the tests (tests/helpers/swift.js starts them).

    /usr/bin/python3 swift-server.py rings <swift_dir> <account_port> <container_port> <object_port>
    /usr/bin/python3 swift-server.py <account|container|object|proxy> <swift_dir>

Swift always reads /etc/swift/swift.conf for its hash prefix and storage policies; the tests
must not write there, so this launcher points Swift at <swift_dir>/swift.conf before it runs
the server, as Debian's swift-*-server scripts would run it (run_wsgi, one process: the
configuration says `workers = 0`). The rings are built in one process with RingBuilder:
the swift-ring-builder command nine times costs seconds, this a fraction of one.
"""
import os
import sys


def build_rings(swift_dir, ports):
    from swift.common.ring import RingBuilder

    for name, port in zip(("account", "container", "object"), ports):
        # Part power 6 (64 partitions), one replica, one device on this folder.
        builder = RingBuilder(6, 1, 1)
        builder.add_dev({
            "id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port),
            "device": "d1", "weight": 100, "meta": "",
        })
        builder.rebalance()
        builder.get_ring().save(os.path.join(swift_dir, name + ".ring.gz"))


def run(server, swift_dir):
    from swift.common import storage_policy, utils

    utils.SWIFT_CONF_FILE = os.path.join(swift_dir, "swift.conf")
    utils.HASH_PATH_PREFIX = b""
    utils.HASH_PATH_SUFFIX = b""
    utils.validate_hash_conf()
    storage_policy.reload_storage_policies()

    from swift.common.wsgi import run_wsgi

    options = {}
    if server == "object":
        from swift.obj import server as object_server

        options["global_conf_callback"] = object_server.global_conf_callback
    conf = os.path.join(swift_dir, server + "-server.conf")
    return run_wsgi(conf, server + "-server", **options)


if __name__ == "__main__":
    if sys.argv[1] == "rings":
        build_rings(sys.argv[2], sys.argv[3:6])
    else:
        sys.exit(run(sys.argv[1], sys.argv[2]))
