#!/usr/bin/env python3
"""Pub/Sub through redis-py, as applications use it: a `pubsub()` listener
subscribed to channels and patterns, messages published by another client,
a listener thread, unsubscribing, and RESP3 with a push handler.

usage: pubsub_redis_py.py PORT
"""
import sys
import threading
import time

import redis


def next_message(ps, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = ps.get_message(ignore_subscribe_messages=True, timeout=deadline - time.monotonic())
        if m is not None:
            return m
    raise AssertionError("no message within %.1fs" % timeout)


def main():
    port = int(sys.argv[1])
    pub = redis.Redis(port=port)

    ps = redis.Redis(port=port).pubsub()
    ps.subscribe("orders")
    ps.psubscribe("events.*")
    # The confirmations, in order.
    assert ps.get_message(timeout=5)["type"] == "subscribe"
    assert ps.get_message(timeout=5)["type"] == "psubscribe"
    assert pub.publish("orders", "o-1") == 1
    m = next_message(ps)
    assert (m["type"], m["channel"], m["data"]) == ("message", b"orders", b"o-1"), m
    assert pub.publish("events.login", "alice") == 1
    m = next_message(ps)
    assert (m["type"], m["pattern"], m["channel"], m["data"]) == ("pmessage", b"events.*", b"events.login", b"alice"), m
    assert pub.pubsub_numsub("orders") == [(b"orders", 1)]
    assert pub.pubsub_numpat() == 1
    assert b"orders" in pub.pubsub_channels()

    # A listener thread with a handler, as applications run it.
    got = []
    done = threading.Event()

    def handler(msg):
        got.append(msg["data"])
        if len(got) == 100:
            done.set()

    ps2 = redis.Redis(port=port).pubsub()
    ps2.subscribe(**{"jobs": handler})
    worker = ps2.run_in_thread(sleep_time=0.01)
    while pub.pubsub_numsub("jobs") != [(b"jobs", 1)]:
        time.sleep(0.01)
    for i in range(100):
        pub.publish("jobs", "job-%d" % i)
    assert done.wait(10), "listener got %d of 100" % len(got)
    assert got == [b"job-%d" % i for i in range(100)], got[:5]
    worker.stop()
    worker.join(5)

    ps.unsubscribe("orders")
    ps.punsubscribe()
    deadline = time.monotonic() + 5
    while pub.publish("orders", "late") != 0:
        assert time.monotonic() < deadline, "unsubscribe did not take effect"
        time.sleep(0.01)
    ps.close()

    # RESP3: messages arrive as push frames.
    r3 = redis.Redis(port=port, protocol=3)
    ps3 = r3.pubsub()
    ps3.subscribe("r3")
    assert ps3.get_message(timeout=5)["type"] == "subscribe"
    assert pub.publish("r3", "pushed") == 1
    m = next_message(ps3)
    assert (m["channel"], m["data"]) == (b"r3", b"pushed"), m
    ps3.close()
    print("redis-py pub/sub: all checks passed")


if __name__ == "__main__":
    main()
