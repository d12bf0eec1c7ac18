# SPDX-License-Identifier: MIT
"""Reflection peer on Python grpcio: a grpc.reflection.v1 and v1alpha
client of a corpc server, with hand-built messages (Debian has no
grpcio-reflection); the FileDescriptorProtos it gets are loaded into a
protobuf DescriptorPool and checked. Run by peer_driver
(tests/health/peer_driver.c), which serves a.b.Kinds and a.b.MoreNames.

  reflection_peer.py HOST:PORT   exit 0 when every check passed
"""
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool


def varint(b, i):
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return n, i


def fields(b):
    """(number, value) of a message: ints and bytes only."""
    i, out = 0, []
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise AssertionError("unexpected wire type %d" % wt)
        out.append((num, v))
    return out


def string_field(num, s):
    b = s.encode()
    assert len(b) < 128
    return bytes([num << 3 | 2, len(b)]) + b


def log(text):
    sys.stderr.write("reflection peer (grpcio): " + text + "\n")


class Reflection:
    def __init__(self, ch, version):
        path = "/grpc.reflection.%s.ServerReflection/ServerReflectionInfo"
        self.call = ch.stream_stream(path % version)
        self.version = version

    def ask(self, num, value):
        """One request on a new stream: field `num` set to `value`."""
        req = string_field(1, "peer") + string_field(num, value)
        resps = list(self.call(iter([req]), timeout=10))
        assert len(resps) == 1, resps
        got = dict()
        for k, v in fields(resps[0]):
            got.setdefault(k, []).append(v)
        assert got[1] == [b"peer"], got  # valid_host
        assert got[2] == [req], got  # original_request
        return got

    def services(self):
        got = self.ask(7, "*")
        return [dict(fields(s))[1].decode()
                for n, s in fields(got[6][0]) if n == 1]

    def files(self, num, value):
        got = self.ask(num, value)
        if 7 in got:
            err = dict(fields(got[7][0]))
            return err.get(1, 0), err.get(2, b"").decode()
        protos = [descriptor_pb2.FileDescriptorProto.FromString(v)
                  for n, v in fields(got[4][0]) if n == 1]
        return 0, protos


def load(pool, protos):
    # Any order from the server: add a file once its imports are in.
    done = set()
    pending = list(protos)
    while pending:
        ready = [f for f in pending if all(d in done for d in f.dependency)]
        assert ready, "imports missing: %s" % [f.name for f in pending]
        for f in ready:
            pool.Add(f)
            done.add(f.name)
            pending.remove(f)


def main():
    ch = grpc.insecure_channel(sys.argv[1])
    for version in ("v1", "v1alpha"):
        r = Reflection(ch, version)
        names = r.services()
        log("%s list_services -> %s" % (version, ", ".join(names)))
        for want in ("a.b.Kinds", "a.b.MoreNames", "grpc.health.v1.Health",
                     "grpc.reflection.v1.ServerReflection",
                     "grpc.reflection.v1alpha.ServerReflection"):
            assert want in names, (want, names)

        code, protos = r.files(4, "a.b.MoreNames")
        assert code == 0, (code, protos)
        log("%s file_containing_symbol a.b.MoreNames -> %s" %
            (version, ", ".join(f.name for f in protos)))
        assert protos[0].name == "a/b/services.proto"
        assert sorted(f.name for f in protos) == [
            "a/b/services.proto", "a/b/types.proto", "other/common.proto"]
        pool = descriptor_pool.DescriptorPool()
        load(pool, protos)
        m = pool.FindMethodByName("a.b.MoreNames.UseImported")
        log("%s a.b.MoreNames.UseImported input type -> %s" %
            (version, m.input_type.full_name))
        assert m.input_type.full_name == "other.v1.Common"
        m = pool.FindMethodByName("a.b.Kinds.Bidi")
        assert m.input_type.full_name == "a.b.Req"
        assert m.output_type.fields_by_name["seq"].number == 2

        code, protos = r.files(4, "grpc.health.v1.Health")
        pool = descriptor_pool.DescriptorPool()
        load(pool, protos)
        svc = pool.FindServiceByName("grpc.health.v1.Health")
        log("%s grpc.health.v1.Health methods -> %s" %
            (version, ", ".join(m.name for m in svc.methods)))
        assert [m.name for m in svc.methods] == ["Check", "Watch"]

        code, protos = r.files(3, "a/b/types.proto")
        assert code == 0 and protos[0].name == "a/b/types.proto", protos
        code, message = r.files(4, "no.Such")
        log("%s file_containing_symbol no.Such -> error %d %s" %
            (version, code, message))
        assert code == grpc.StatusCode.NOT_FOUND.value[0], code
        code, message = r.files(3, "no/such.proto")
        assert code == grpc.StatusCode.NOT_FOUND.value[0], code
    log("all passed")


main()
