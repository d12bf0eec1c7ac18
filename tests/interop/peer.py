# SPDX-License-Identifier: MIT
"""Interop peer on Python grpcio: the corpc.test.Echo service and a client
that checks a corpc server. Driven by interop_test (see interop_test.c).

  peer.py PB2_DIR server [UNIX_PATH]  serve on 127.0.0.1:0 (and UNIX_PATH);
                                      print the port, serve until killed
  peer.py PB2_DIR client TARGET       run the checks against TARGET; exit 0
                                      when all pass

Server behaviour (a subset of tests/conformance/echo_service.c): Unary
echoes text and blob; ServerStream sends `count` responses with index;
`delay_ms` sleeps first; `fail_code` ends with that code and `fail_message`;
`echo_metadata` copies each "x-" request entry to a header "h-KEY" and a
trailer "t-KEY".
"""
import sys
import time
from concurrent import futures

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import test_pb2 as pb  # noqa: E402

SVC = "/corpc.test.Echo/"
CODES = {c.value[0]: c for c in grpc.StatusCode}


def echo_md(req, ctx):
    if not req.echo_metadata:
        return
    md = [(k, v) for k, v in ctx.invocation_metadata() if k.startswith("x-")]
    ctx.send_initial_metadata([("h-" + k, v) for k, v in md])
    ctx.set_trailing_metadata([("t-" + k, v) for k, v in md])


def fail(req, ctx):
    if req.fail_details:
        ctx.set_trailing_metadata([("grpc-status-details-bin",
                                    req.fail_details)])
    ctx.abort(CODES[req.fail_code], req.fail_message)


def unary(req, ctx):
    echo_md(req, ctx)
    time.sleep(req.delay_ms / 1000.0)
    if req.fail_code:
        fail(req, ctx)
    return pb.EchoResponse(text=req.text, blob=req.blob)


def server_stream(req, ctx):
    echo_md(req, ctx)
    for i in range(req.fail_after if req.fail_code else req.count):
        time.sleep(req.delay_ms / 1000.0)
        yield pb.EchoResponse(text=req.text, index=i)
    if req.fail_code:
        ctx.abort(CODES[req.fail_code], req.fail_message)


def serve(unix_path):
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(
            unary, pb.EchoRequest.FromString, pb.EchoResponse.SerializeToString),
        "ServerStream": grpc.unary_stream_rpc_method_handler(
            server_stream, pb.EchoRequest.FromString,
            pb.EchoResponse.SerializeToString),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("corpc.test.Echo", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    if unix_path:
        server.add_insecure_port("unix:" + unix_path)
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


FAILED = []


def check(name, cond, detail=""):
    print("%s %s %s" % ("ok  " if cond else "FAIL", name, detail), flush=True)
    if not cond:
        FAILED.append(name)


def client(target):
    ch = grpc.insecure_channel(target)
    unary_call = ch.unary_unary(SVC + "Unary", pb.EchoRequest.SerializeToString,
                                pb.EchoResponse.FromString)
    stream_call = ch.unary_stream(SVC + "ServerStream",
                                  pb.EchoRequest.SerializeToString,
                                  pb.EchoResponse.FromString)

    r = unary_call(pb.EchoRequest(text="hello", blob=b"\x00\xff"), timeout=10)
    check("unary", r.text == "hello" and r.blob == b"\x00\xff", repr(r))

    md = (("x-a", "1"), ("x-b-bin", b"\x00\x01\xfe"))
    r, call = unary_call.with_call(
        pb.EchoRequest(text="md", echo_metadata=True), metadata=md, timeout=10)
    hdr = dict(call.initial_metadata())
    trl = dict(call.trailing_metadata())
    check("unary headers", hdr.get("h-x-a") == "1" and
          hdr.get("h-x-b-bin") == b"\x00\x01\xfe", repr(hdr))
    check("unary trailers", trl.get("t-x-a") == "1" and
          trl.get("t-x-b-bin") == b"\x00\x01\xfe", repr(trl))

    n = 0
    ok = True
    it = stream_call(pb.EchoRequest(text="s", count=10000, echo_metadata=True),
                     metadata=md, timeout=60)
    for m in it:
        ok = ok and m.index == n and m.text == "s"
        n += 1
    check("stream 10000", ok and n == 10000 and it.code() == grpc.StatusCode.OK,
          "%d messages" % n)
    check("stream metadata",
          dict(it.initial_metadata()).get("h-x-a") == "1" and
          dict(it.trailing_metadata()).get("t-x-a") == "1")

    try:
        unary_call(pb.EchoRequest(text="x", fail_code=5,
                                  fail_message="no such thing"), timeout=10)
        check("error status", False, "no error")
    except grpc.RpcError as e:
        check("error status", e.code() == grpc.StatusCode.NOT_FOUND and
              e.details() == "no such thing", "%s %r" % (e.code(), e.details()))

    # Compressed both ways: corpc inflates grpcio's request and says how it
    # came; grpcio inflates corpc's gzip response.
    for name, algo in (("gzip", grpc.Compression.Gzip),
                       ("deflate", grpc.Compression.Deflate),
                       ("identity", grpc.Compression.NoCompression)):
        r = unary_call(pb.EchoRequest(text="z", report_compression=True,
                                      respond_compression=3,
                                      blob=b"\0" * 4096),
                       timeout=10, compression=algo)
        check("compressed request " + name,
              r.text == name and r.blob == b"\0" * 4096, r.text)

    details = b"\x08\x05\x12\x04gone\x00"  # google.rpc.Status + a NUL
    try:
        unary_call(pb.EchoRequest(text="x", fail_code=5, fail_message="gone",
                                  fail_details=details), timeout=10)
        check("rich error details", False, "no error")
    except grpc.RpcError as e:
        got = dict(e.trailing_metadata() or ()).get("grpc-status-details-bin")
        check("rich error details", e.code() == grpc.StatusCode.NOT_FOUND and
              got == details, repr(got))

    it = stream_call(pb.EchoRequest(text="e", count=0, fail_code=3,
                                    fail_after=2, fail_message="stop"),
                     timeout=10)
    got = []
    try:
        for m in it:
            got.append(m.index)
        check("stream error", False, "no error")
    except grpc.RpcError as e:
        check("stream error", got == [0, 1] and
              e.code() == grpc.StatusCode.INVALID_ARGUMENT and
              e.details() == "stop", "%r %s %r" % (got, e.code(), e.details()))

    t0 = time.monotonic()
    try:
        unary_call(pb.EchoRequest(text="slow", delay_ms=3000), timeout=0.3)
        check("deadline", False, "no error")
    except grpc.RpcError as e:
        took = time.monotonic() - t0
        check("deadline", e.code() == grpc.StatusCode.DEADLINE_EXCEEDED and
              took < 2.5, "%s after %.2fs" % (e.code(), took))

    raw = ch.unary_unary(SVC + "Unary", lambda b: b, lambda b: b)
    try:
        raw(b"\x0a\x05a", timeout=10)  # field 1 claims 5 bytes, has 1
        check("bad request", False, "no error")
    except grpc.RpcError as e:
        check("bad request", e.code() == grpc.StatusCode.INTERNAL and
              SVC + "Unary" in e.details(), "%s %r" % (e.code(), e.details()))

    try:
        ch.unary_unary("/corpc.test.Echo/Nope", lambda b: b, lambda b: b)(
            b"", timeout=10)
        check("unknown method", False, "no error")
    except grpc.RpcError as e:
        check("unknown method", e.code() == grpc.StatusCode.UNIMPLEMENTED,
              str(e.code()))
    ch.close()
    return 1 if FAILED else 0


if __name__ == "__main__":
    if sys.argv[2] == "server":
        serve(sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        sys.exit(client(sys.argv[3]))
