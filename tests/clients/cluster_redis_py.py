#!/usr/bin/env python3
"""redis-py's RedisCluster against a slotkv node in cluster mode that serves
every slot: it discovers the node from CLUSTER SLOTS, writes 10,000 keys and
reads them back, pipelines, and hears CROSSSLOT for a multi-key command over
several slots, as against Redis Cluster.

usage: cluster_redis_py.py PORT   (the node must serve all 16384 slots)
"""
import sys

import redis
from redis.cluster import RedisCluster


def main():
    port = int(sys.argv[1])
    rc = RedisCluster(host="127.0.0.1", port=port, decode_responses=True)
    nodes = rc.get_nodes()
    assert len(nodes) == 1 and nodes[0].port == port, nodes

    for i in range(10_000):
        rc.set(f"key:{i}", f"value:{i}")
    for i in range(10_000):
        assert rc.get(f"key:{i}") == f"value:{i}", i
    assert rc.dbsize() >= 10_000

    pipe = rc.pipeline()
    for i in range(100):
        pipe.incr(f"counter:{i % 7}")
    assert pipe.execute()[-1] == 15  # i = 99: the 15th INCR of counter:1

    # Keys of one slot (a hash tag) go together; of several, Redis's error.
    rc.mset({"{user:1}:name": "ada", "{user:1}:lang": "en"})
    assert rc.mget("{user:1}:name", "{user:1}:lang") == ["ada", "en"]
    # RedisCluster refuses such a command itself; a plain connection to the
    # node hears the server's error.
    try:
        redis.Redis(port=port).execute_command("MSET", "a", "1", "b", "2")
    except redis.exceptions.ResponseError as e:
        assert "CROSSSLOT" in str(e), e
    else:
        raise AssertionError("MSET over two slots did not fail")
    assert rc.mget_nonatomic("key:1", "key:2") == ["value:1", "value:2"]
    assert rc.keyslot("foo") == 12182 == rc.cluster_keyslot("foo")
    print("redis-py RedisCluster: 10,000 keys written and read back, pipeline, CROSSSLOT: ok")


if __name__ == "__main__":
    main()
