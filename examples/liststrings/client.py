# SPDX-License-Identifier: MIT
"""A Python grpcio client for liststrings_server: proof that any gRPC peer
can call a corpc server. Usage (see README, "Network transport"):

  protoc --python_out=OUT -I examples/liststrings examples/liststrings/list.proto
  /usr/bin/python3 examples/liststrings/client.py OUT 127.0.0.1:50051 [RESP_SIZE]
"""
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import list_pb2 as pb  # noqa: E402

target = sys.argv[2]
resp_size = int(sys.argv[3]) if len(sys.argv) > 3 else 1
with grpc.insecure_channel(target) as channel:
    call = channel.unary_stream(
        "/list.v0.ListStrings/List",
        request_serializer=pb.ListRequest.SerializeToString,
        response_deserializer=pb.ListResponse.FromString)
    messages = strings = 0
    for resp in call(pb.ListRequest(resp_size=resp_size), timeout=30):
        messages += 1
        strings += len(resp.strings)
    print(f"python grpcio: {messages} messages, {strings} strings, status OK")
