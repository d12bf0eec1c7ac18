# SPDX-License-Identifier: MIT
"""Health peer on Python grpcio: a grpc.health.v1.Health client of a corpc
server, with hand-built messages (Debian has no grpcio-health-checking).
Run by peer_driver (peer_driver.c), which serves and obeys the "set",
"clear" and "shutdown" lines this prints on stdout.

  health_peer.py HOST:PORT   exit 0 when every check passed
"""
import sys

import grpc

STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def request(service):
    # HealthCheckRequest{service = 1}: proto3 leaves an empty string out.
    b = service.encode()
    assert len(b) < 128
    return b"\x0a" + bytes([len(b)]) + b if b else b""


def status(resp):
    # HealthCheckResponse{status = 1}: absent means 0 (UNKNOWN).
    if not resp:
        return "UNKNOWN"
    assert resp[0] == 0x08 and len(resp) == 2, resp
    return STATUS[resp[1]]


def tell(line):
    print(line, flush=True)


def log(text):
    sys.stderr.write("health peer (grpcio): " + text + "\n")


def main():
    ch = grpc.insecure_channel(sys.argv[1])
    check = ch.unary_unary("/grpc.health.v1.Health/Check")
    watch = ch.unary_stream("/grpc.health.v1.Health/Watch")

    for svc, want in (("", "SERVING"), ("demo.Up", "SERVING"),
                      ("demo.Down", "NOT_SERVING")):
        got = status(check(request(svc), timeout=10))
        log("Check %r -> %s" % (svc, got))
        assert got == want, (svc, got, want)
    try:
        check(request("no.Such"), timeout=10)
        raise AssertionError("Check of an unknown service succeeded")
    except grpc.RpcError as e:
        log("Check 'no.Such' -> %s" % e.code().name)
        assert e.code() == grpc.StatusCode.NOT_FOUND, e

    # Watch of an unknown service: SERVICE_UNKNOWN, then every change.
    w = watch(request("demo.Later"), timeout=20)
    steps = [(None, "SERVICE_UNKNOWN"),
             ("set demo.Later SERVING", "SERVING"),
             ("set demo.Later NOT_SERVING", "NOT_SERVING"),
             ("clear demo.Later", "SERVICE_UNKNOWN")]
    for cmd, want in steps:
        if cmd:
            tell(cmd)
        got = status(next(w))
        log("Watch 'demo.Later' after %s -> %s" % (cmd or "start", got))
        assert got == want, (cmd, got, want)
    w.cancel()

    # Shutdown: NOT_SERVING first, then the watch ends UNAVAILABLE.
    w = watch(request("demo.Up"), timeout=20)
    got = status(next(w))
    log("Watch 'demo.Up' -> %s" % got)
    assert got == "SERVING", got
    tell("shutdown")
    got = status(next(w))
    log("Watch 'demo.Up' after shutdown -> %s" % got)
    assert got == "NOT_SERVING", got
    try:
        next(w)
        raise AssertionError("the watch went on after shutdown")
    except grpc.RpcError as e:
        log("Watch then ends %s: %s" % (e.code().name, e.details()))
        assert e.code() == grpc.StatusCode.UNAVAILABLE, e
    log("all passed")


main()
