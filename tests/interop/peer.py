# SPDX-License-Identifier: MIT
"""Interop peer on Python grpcio: the corpc.test.Echo and grpc.testing
TestService services and a client that checks a corpc server. Driven by
interop_test (see interop_test.c).

  peer.py PB2_DIR server [UNIX_PATH]  serve on 127.0.0.1:0 (and UNIX_PATH);
                                      print "PORT TAP_PORT", serve until
                                      killed
  peer.py PB2_DIR client TARGET       run the checks against TARGET; exit 0
                                      when all pass

Server behaviour (a subset of tests/conformance/echo_service.c): Unary
echoes text and blob; ServerStream sends `count` responses with index;
`delay_ms` sleeps first; `fail_code` ends with that code and `fail_message`;
`echo_metadata` copies each "x-" request entry to a header "h-KEY" and a
trailer "t-KEY".

gRPC's four official compression cases (doc/interop-test-descriptions.md)
run both ways on grpc.testing.TestService (grpc_testing.proto). grpcio
cannot tell how a received message came (its API hides the compressed
flag) nor send one message of a compressed call uncompressed from a client,
so a WireTap proxy in between reads each gRPC message's flag off the wire:
the server serves these cases behind it (the second port it prints) and
the client runs them through one.
"""
import socket
import sys
import threading
import time
import zlib
from concurrent import futures

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import grpc_testing_pb2 as tpb  # noqa: E402
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


class WireTap:
    """A TCP proxy on 127.0.0.1 in front of `upstream` ("HOST:PORT" or
    "unix:PATH") that records every gRPC message it forwards, per direction
    ("up" to the server, "down" to the client), with its compressed flag."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.cond = threading.Condition()
        self.seen = {"up": [], "down": []}  # (compressed, message bytes)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _connect(self):
        if self.upstream.startswith("unix:"):
            u = socket.socket(socket.AF_UNIX)
            u.connect(self.upstream[len("unix:"):])
        else:
            host, port = self.upstream.rsplit(":", 1)
            u = socket.create_connection((host, int(port)))
        return u

    def _accept(self):
        while True:
            c, _ = self.sock.accept()
            u = self._connect()
            # The client's side starts with HTTP/2's 24-byte preface.
            for src, dst, way, skip in ((c, u, "up", 24), (u, c, "down", 0)):
                threading.Thread(target=self._pump, daemon=True,
                                 args=(src, dst, way, skip)).start()

    def _pump(self, src, dst, way, skip):
        buf = bytearray()
        streams = {}  # HTTP/2 stream id -> gRPC bytes not yet a message
        while True:
            try:
                data = src.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                break
            buf += data
            if skip:
                n = min(skip, len(buf))
                del buf[:n]
                skip -= n
            self._frames(buf, streams, way)  # before the peer sees them
            try:
                dst.sendall(data)
            except OSError:
                break
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _frames(self, buf, streams, way):
        while len(buf) >= 9:
            n = int.from_bytes(buf[0:3], "big")
            if len(buf) < 9 + n:
                return
            kind, flags = buf[3], buf[4]
            sid = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            body = bytes(buf[9:9 + n])
            del buf[:9 + n]
            if kind != 0:  # only DATA frames carry messages
                continue
            if flags & 0x8:  # PADDED
                body = body[1:len(body) - body[0]]
            s = streams.setdefault(sid, bytearray())
            s += body
            while len(s) >= 5 and len(s) >= 5 + int.from_bytes(s[1:5], "big"):
                size = int.from_bytes(s[1:5], "big")
                compressed, msg = bool(s[0] & 1), bytes(s[5:5 + size])
                del s[:5 + size]
                if compressed:
                    msg = zlib.decompress(msg, 47)  # gzip or zlib header
                with self.cond:
                    self.seen[way].append((compressed, msg))
                    self.cond.notify_all()

    def compressed(self, way, msg, timeout=10.0):
        """Whether the first recorded message equal to `msg` went
        compressed; forgets it and those before it. None if not seen."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                log = self.seen[way]
                for i, (flag, raw) in enumerate(log):
                    try:
                        same = type(msg).FromString(raw) == msg
                    except Exception:  # another message type
                        same = False
                    if same:
                        del log[:i + 1]
                        return flag
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)


TAP = None  # the server's WireTap


def zeros(n):
    return tpb.Payload(body=b"\0" * n)


def expect_compressed(req, ctx):
    """CompressedRequest: a request that says it came compressed must
    have, as the wire shows. Returns how it came."""
    compressed = TAP.compressed("up", req)
    if req.expect_compressed.value and compressed is not True:
        ctx.abort(grpc.StatusCode.INVALID_ARGUMENT,
                  "expect_compressed is true but the request came "
                  "uncompressed")
    return compressed


def ts_unary(req, ctx):
    expect_compressed(req, ctx)
    if req.HasField("response_compressed"):
        ctx.set_compression(grpc.Compression.Gzip
                            if req.response_compressed.value
                            else grpc.Compression.NoCompression)
    return tpb.SimpleResponse(payload=zeros(req.response_size))


def ts_output(req, ctx):
    if any(p.compressed.value for p in req.response_parameters):
        ctx.set_compression(grpc.Compression.Gzip)
    for p in req.response_parameters:
        if not p.compressed.value:
            ctx.disable_next_message_compression()
        yield tpb.StreamingOutputCallResponse(payload=zeros(p.size))


def ts_input(reqs, ctx):
    total = 0
    wire = []
    for r in reqs:
        wire.append("1" if expect_compressed(r, ctx) else "0")
        total += len(r.payload.body)
    # Beyond the case: tells the client how each request came (a corpc
    # client checks that CORPC_WRITE_NO_COMPRESS went uncompressed).
    ctx.set_trailing_metadata([("x-wire-compressed", ",".join(wire))])
    return tpb.StreamingInputCallResponse(aggregated_payload_size=total)


def serve(unix_path):
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(
            unary, pb.EchoRequest.FromString, pb.EchoResponse.SerializeToString),
        "ServerStream": grpc.unary_stream_rpc_method_handler(
            server_stream, pb.EchoRequest.FromString,
            pb.EchoResponse.SerializeToString),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    ts = {
        "UnaryCall": grpc.unary_unary_rpc_method_handler(
            ts_unary, tpb.SimpleRequest.FromString,
            tpb.SimpleResponse.SerializeToString),
        "StreamingOutputCall": grpc.unary_stream_rpc_method_handler(
            ts_output, tpb.StreamingOutputCallRequest.FromString,
            tpb.StreamingOutputCallResponse.SerializeToString),
        "StreamingInputCall": grpc.stream_unary_rpc_method_handler(
            ts_input, tpb.StreamingInputCallRequest.FromString,
            tpb.StreamingInputCallResponse.SerializeToString),
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("corpc.test.Echo", handlers),
         grpc.method_handlers_generic_handler("grpc.testing.TestService",
                                              ts)))
    port = server.add_insecure_port("127.0.0.1:0")
    if unix_path:
        server.add_insecure_port("unix:" + unix_path)
    server.start()
    global TAP
    TAP = WireTap("127.0.0.1:%d" % port)
    print(port, TAP.port, flush=True)
    server.wait_for_termination()


FAILED = []


def check(name, cond, detail=""):
    print("%s %s %s" % ("ok  " if cond else "FAIL", name, detail), flush=True)
    if not cond:
        FAILED.append(name)


def code_of(fn):
    try:
        fn()
        return grpc.StatusCode.OK
    except grpc.RpcError as e:
        return e.code()


def test_service(target):
    """A WireTap in front of `target` and a channel through it, with the
    three TestService methods."""
    tap = WireTap(target)
    ch = grpc.insecure_channel("127.0.0.1:%d" % tap.port)
    svc = "/grpc.testing.TestService/"
    return tap, ch, (
        ch.unary_unary(svc + "UnaryCall",
                       tpb.SimpleRequest.SerializeToString,
                       tpb.SimpleResponse.FromString),
        ch.unary_stream(svc + "StreamingOutputCall",
                        tpb.StreamingOutputCallRequest.SerializeToString,
                        tpb.StreamingOutputCallResponse.FromString),
        ch.stream_unary(svc + "StreamingInputCall",
                        tpb.StreamingInputCallRequest.SerializeToString,
                        tpb.StreamingInputCallResponse.FromString))


def compression_cases(target):
    """gRPC's official compression cases against a corpc server."""
    none, gzip = grpc.Compression.NoCompression, grpc.Compression.Gzip

    tap, ch, (unary, _, _) = test_service(target)
    req = tpb.SimpleRequest(expect_compressed=tpb.BoolValue(value=True),
                            response_size=314159, payload=zeros(271828))
    probe = code_of(lambda: unary(req, timeout=20, compression=none))
    r1 = unary(req, timeout=20, compression=gzip)
    wire = [tap.compressed("up", req), tap.compressed("up", req)]
    req.expect_compressed.value = False
    r2 = unary(req, timeout=20, compression=none)
    wire.append(tap.compressed("up", req))
    check("case client_compressed_unary",
          probe == grpc.StatusCode.INVALID_ARGUMENT and
          len(r1.payload.body) == 314159 and
          len(r2.payload.body) == 314159 and wire == [False, True, False],
          "probe %s, requests compressed on the wire %r" % (probe, wire))
    ch.close()

    tap, ch, (_, _, input_call) = test_service(target)
    first = tpb.StreamingInputCallRequest(
        expect_compressed=tpb.BoolValue(value=True), payload=zeros(27182))
    second = tpb.StreamingInputCallRequest(
        expect_compressed=tpb.BoolValue(value=False), payload=zeros(45904))
    probe = code_of(lambda: input_call(iter([first]), timeout=20,
                                       compression=none))
    r = input_call(iter([first, second]), timeout=20, compression=gzip)
    wire = [tap.compressed("up", first), tap.compressed("up", first),
            tap.compressed("up", second)]
    # grpcio's client cannot send one message of a compressed call
    # uncompressed, so its second message goes compressed too.
    check("case client_compressed_streaming",
          probe == grpc.StatusCode.INVALID_ARGUMENT and
          r.aggregated_payload_size == 73086 and wire[:2] == [False, True],
          "probe %s, aggregated %d, compressed on the wire %r" %
          (probe, r.aggregated_payload_size, wire))
    ch.close()

    tap, ch, (unary, _, _) = test_service(target)
    got = []
    for want in (True, False):
        r = unary(tpb.SimpleRequest(
            response_compressed=tpb.BoolValue(value=want),
            response_size=314159, payload=zeros(271828)), timeout=20)
        got.append((len(r.payload.body), tap.compressed("down", r)))
    check("case server_compressed_unary",
          got == [(314159, True), (314159, False)],
          "(size, compressed on the wire) %r" % got)
    ch.close()

    tap, ch, (_, output_call, _) = test_service(target)
    rs = list(output_call(tpb.StreamingOutputCallRequest(response_parameters=[
        tpb.ResponseParameters(size=31415, compressed=tpb.BoolValue(value=True)),
        tpb.ResponseParameters(size=92653,
                               compressed=tpb.BoolValue(value=False))]),
        timeout=20))
    got = [(len(r.payload.body), tap.compressed("down", r)) for r in rs]
    check("case server_compressed_streaming",
          got == [(31415, True), (92653, False)],
          "(size, compressed on the wire) %r" % got)
    ch.close()


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
    try:
        compression_cases(target)
    except grpc.RpcError as e:
        check("compression cases", False, "%s %r" % (e.code(), e.details()))
    return 1 if FAILED else 0


if __name__ == "__main__":
    if sys.argv[2] == "server":
        serve(sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        sys.exit(client(sys.argv[3]))
