"""Independent reader of TensorBoard event files, for test/report/metrics.test.ts.

Written from TensorFlow's specs, sharing no code with src/report/tensorboard.ts:
  - TFRecord framing (tensorflow/core/lib/io/record_writer.cc): uint64 length LE, uint32 masked CRC-32C of
    the length bytes, data, uint32 masked CRC-32C of the data; mask = ((crc >> 15) | (crc << 17)) + 0xa282ead8.
  - tensorflow.Event (tensorflow/core/util/event.proto): wall_time double = 1, step int64 = 2,
    file_version string = 3, summary Summary = 5; Summary.value repeated Value = 1; Value: tag string = 1,
    simple_value float = 2.
Events are decoded twice when Google's protobuf runtime is installed (Debian python3-protobuf): by the
hand-written wire decoder below and by google.protobuf from a descriptor of the same fields; both results
are printed. No TensorFlow/TensorBoard package exists in Debian, so this is the reader the tests use.

Usage: python3 tfevents_reader.py FILE  ->  JSON {"records": N, "events": [...], "protobuf_events": [...] | null}
"""
import json
import struct
import sys


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data: bytes) -> int:
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def records(blob: bytes):
    off = 0
    while off < len(blob):
        if len(blob) - off < 12:
            raise ValueError(f"truncated header at byte {off}")
        header = blob[off:off + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", blob[off + 8:off + 12])
        if length_crc != masked(header):
            raise ValueError(f"bad length CRC at byte {off}")
        data = blob[off + 12:off + 12 + length]
        if len(data) != length or len(blob) < off + 16 + length:
            raise ValueError(f"truncated record at byte {off}")
        (data_crc,) = struct.unpack("<I", blob[off + 12 + length:off + 16 + length])
        if data_crc != masked(data):
            raise ValueError(f"bad data CRC at byte {off}")
        yield data
        off += 16 + length


def varint(buf: bytes, i: int):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def fields(buf: bytes):
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, value


def decode_event(buf: bytes) -> dict:
    event = {"wall_time": None, "step": 0, "file_version": None, "scalars": {}}
    for number, wire, value in fields(buf):
        if number == 1 and wire == 1:
            event["wall_time"] = struct.unpack("<d", value)[0]
        elif number == 2 and wire == 0:
            event["step"] = value
        elif number == 3 and wire == 2:
            event["file_version"] = value.decode("utf-8")
        elif number == 5 and wire == 2:
            for n, w, v in fields(value):
                if n != 1 or w != 2:
                    continue
                tag, simple = None, None
                for vn, vw, vv in fields(v):
                    if vn == 1 and vw == 2:
                        tag = vv.decode("utf-8")
                    elif vn == 2 and vw == 5:
                        simple = struct.unpack("<f", vv)[0]
                event["scalars"][tag] = simple
    return event


def protobuf_decoder():
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError:
        return None
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="tb_event_test.proto", package="tbtest", syntax="proto3")
    summary = fdp.message_type.add(name="Summary")
    value = summary.nested_type.add(name="Value")
    value.field.add(name="tag", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    value.field.add(name="simple_value", number=2, type=F.TYPE_FLOAT, label=F.LABEL_OPTIONAL)
    summary.field.add(name="value", number=1, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED, type_name=".tbtest.Summary.Value")
    event = fdp.message_type.add(name="Event")
    event.field.add(name="wall_time", number=1, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    event.field.add(name="step", number=2, type=F.TYPE_INT64, label=F.LABEL_OPTIONAL)
    event.field.add(name="file_version", number=3, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    event.field.add(name="summary", number=5, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL, type_name=".tbtest.Summary")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    desc = pool.FindMessageTypeByName("tbtest.Event")
    cls = message_factory.GetMessageClass(desc) if hasattr(message_factory, "GetMessageClass") else message_factory.MessageFactory(pool).GetPrototype(desc)

    def decode(buf: bytes) -> dict:
        e = cls()
        e.ParseFromString(buf)
        return {
            "wall_time": e.wall_time,
            "step": e.step,
            "file_version": e.file_version or None,
            "scalars": {v.tag: v.simple_value for v in e.summary.value},
        }

    return decode


def main():
    blob = open(sys.argv[1], "rb").read()
    datas = list(records(blob))
    pb = protobuf_decoder()
    print(json.dumps({
        "records": len(datas),
        "events": [decode_event(d) for d in datas],
        "protobuf_events": [pb(d) for d in datas] if pb else None,
    }))


if __name__ == "__main__":
    main()
