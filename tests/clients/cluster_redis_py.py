#!/usr/bin/env python3
"""redis-py's RedisCluster against slotkv nodes in cluster mode that serve
every slot between them: it discovers the nodes from CLUSTER SLOTS, writes
10,000 keys and reads them back from a client started at each node,
pipelines, and hears CROSSSLOT for a multi-key command over several slots,
as against Redis Cluster.

usage: cluster_redis_py.py PORT [PORT ...]   (the nodes of one cluster)
"""
import sys

import redis
from redis.cluster import RedisCluster


def main():
    ports = [int(p) for p in sys.argv[1:]]
    rc = RedisCluster(host="127.0.0.1", port=ports[0], decode_responses=True)
    nodes = rc.get_nodes()
    assert sorted(n.port for n in nodes) == sorted(ports), nodes

    for i in range(10_000):
        rc.set(f"key:{i}", f"value:{i}")
    # Read back through a client that starts from each node in turn.
    for port in ports:
        other = RedisCluster(host="127.0.0.1", port=port, decode_responses=True)
        for i in range(10_000):
            assert other.get(f"key:{i}") == f"value:{i}", (port, i)
        other.close()
    total = sum(redis.Redis(port=p).dbsize() for p in ports)
    assert total >= 10_000, total

    pipe = rc.pipeline()
    for i in range(100):
        pipe.incr(f"counter:{i % 7}")
    assert pipe.execute()[-1] == 15  # i = 99: the 15th INCR of counter:1

    # Keys of one slot (a hash tag) go together; of several, Redis's error.
    rc.mset({"{user:1}:name": "ada", "{user:1}:lang": "en"})
    assert rc.mget("{user:1}:name", "{user:1}:lang") == ["ada", "en"]
    # RedisCluster refuses such a command itself; a plain connection to a
    # node hears the server's error.
    try:
        redis.Redis(port=ports[0]).execute_command("MSET", "a", "1", "b", "2")
    except redis.exceptions.ResponseError as e:
        assert "CROSSSLOT" in str(e), e
    else:
        raise AssertionError("MSET over two slots did not fail")
    assert rc.mget_nonatomic("key:1", "key:2") == ["value:1", "value:2"]
    assert rc.keyslot("foo") == 12182 == rc.cluster_keyslot("foo")
    print(f"redis-py RedisCluster on {len(ports)} node(s): 10,000 keys written, read back from each node: ok")


if __name__ == "__main__":
    main()
