# Test fixture for datasets/recordio*.cpp: an independent MXNet RecordIO writer and reader.
"""Independent MXNet RecordIO writer and reader for the C++ tests.

Written from the format facts alone (dmlc-core framing, MXNet's IRHeader, insightface's face2rec
pack layout), with struct/numpy/cv2 and no MXNet:

  write OUT_DIR [options]   writes OUT_DIR/train.rec, train.idx (property optional) and
                            manifest.json describing what a reader must find.
  read PACK_DIR             parses a pack the way MXNet's MXIndexedRecordIO + recordio.unpack and
                            arcface_torch's MXFaceDataset do, and prints a JSON summary.

Framing: u32 magic 0xced7230a, u32 lrec (cflag = lrec >> 29, length = lrec & (2^29 - 1)), bytes,
zero padding to 4. The writer splits a payload at every 4-byte-aligned occurrence of the magic
(dropping it) into parts with cflag 1 (first), 2 (middle), 3 (last); unaligned occurrences stay.
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import cv2
import numpy as np

MAGIC = 0xCED7230A
MAGIC_BYTES = struct.pack('<I', MAGIC)
IR_FORMAT = '<IfQQ'  # flag, label, id, id2
IR_SIZE = struct.calcsize(IR_FORMAT)
assert IR_SIZE == 24


# ----------------------------------------------------------------------------------------------
# framing

def frame(cflag, data):
    pad = (-len(data)) % 4
    return struct.pack('<II', MAGIC, (cflag << 29) | len(data)) + data + b'\0' * pad


def encode_record(payload):
    """The bytes dmlc's writer emits for one payload, and how many parts it used."""
    cuts = [i for i in range(0, len(payload) - len(payload) % 4, 4) if payload[i:i + 4] == MAGIC_BYTES]
    if not cuts:
        return frame(0, payload), 1
    out = b''
    start = 0
    for n, cut in enumerate(cuts):
        out += frame(1 if n == 0 else 2, payload[start:cut])
        start = cut + 4
    out += frame(3, payload[start:])
    return out, len(cuts) + 1


def decode_record(data, pos):
    """dmlc reader semantics: returns (payload, next_pos, parts). Raises on malformed input."""
    payload = b''
    parts = 0
    while True:
        if pos + 8 > len(data):
            raise ValueError('truncated frame at byte %d' % pos)
        magic, lrec = struct.unpack_from('<II', data, pos)
        if magic != MAGIC:
            raise ValueError('bad magic 0x%08x at byte %d' % (magic, pos))
        cflag, length = lrec >> 29, lrec & ((1 << 29) - 1)
        if parts == 0 and cflag in (2, 3):
            raise ValueError('stray continuation part at byte %d' % pos)
        if parts > 0 and cflag in (0, 1):
            raise ValueError('unfinished split record at byte %d' % pos)
        padded = length + (-length) % 4
        if pos + 8 + padded > len(data):
            raise ValueError('truncated record at byte %d' % pos)
        payload += data[pos + 8:pos + 8 + length]
        pos += 8 + padded
        parts += 1
        if cflag in (0, 3):
            return payload, pos, parts
        payload += MAGIC_BYTES


def pack(flag, label, rid, rid2, labels, image):
    if labels is not None:
        flag = len(labels)
        head = struct.pack(IR_FORMAT, flag, 0.0, rid, rid2) + np.asarray(labels, dtype='<f4').tobytes()
    else:
        head = struct.pack(IR_FORMAT, flag, float(label), rid, rid2)
    return head + image


def unpack(payload):
    flag, label, rid, rid2 = struct.unpack_from(IR_FORMAT, payload, 0)
    body = payload[IR_SIZE:]
    labels = None
    if flag > 0:
        labels = [float(x) for x in np.frombuffer(body[:4 * flag], dtype='<f4')]
        body = body[4 * flag:]
    return dict(flag=flag, label=float(label), id=rid, id2=rid2, labels=labels), body


# ----------------------------------------------------------------------------------------------
# write

def colour(n):
    return [(37 * n + 20) % 200 + 20, (71 * n + 50) % 200 + 20, (113 * n + 90) % 200 + 20]


def jpeg(bgr, shape):
    img = np.zeros((shape[0], shape[1], 3), np.uint8)
    img[:, :] = bgr
    ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return buf.tobytes()


def with_magic_comment(image):
    """Inserts a JPEG COM segment holding the magic at image offsets 8, 12 and 20 (4-byte aligned:
    the image starts at an aligned payload offset) and 25 (unaligned), so the payload splits into
    parts, one of them empty, while the JPEG still decodes."""
    assert image[:2] == b'\xff\xd8'
    data = b'..' + MAGIC_BYTES + MAGIC_BYTES + b'abcd' + MAGIC_BYTES + b'x' + MAGIC_BYTES + b'yzw'
    segment = b'\xff\xfe' + struct.pack('>H', len(data) + 2) + data
    out = image[:2] + segment + image[2:]
    for at in (8, 12, 20, 25):
        assert out[at:at + 4] == MAGIC_BYTES
    return out


def write_pack(args):
    os.makedirs(args.out, exist_ok=True)
    rec = b''
    index = []  # (key, offset) in write order, as MXIndexedRecordIO.write_idx appends them
    images = []
    split_parts = 0
    split_key = None

    def append(key, payload):
        nonlocal rec
        data, parts = encode_record(payload)
        index.append((key, len(rec)))
        rec += data
        return parts

    identities, per = args.identities, args.per_identity
    n = identities * per
    first_key = 1 if args.header else 0
    bad = {}
    if args.bad_label:
        k, v = args.bad_label.split('=')
        bad[int(k)] = float(v)
    ranges = []
    for ident in range(identities):
        start = first_key + ident * per
        ranges.append((start, start + per))
        for j in range(per):
            key = start + j
            number = ident * per + j
            shape = [64, 48] if number == 1 else [112, 112]
            bgr = colour(number)
            image = jpeg(bgr, shape)
            label = bad.get(key, float(ident))
            rid2 = 0
            if args.split and number == per + 1:
                image = with_magic_comment(image)
                rid2 = MAGIC  # the magic inside the IRHeader (payload offset 16) splits the header too
                split_key = key
                with open(os.path.join(args.out, 'split_image.bin'), 'wb') as f:
                    f.write(image)
            rid = 0 if args.zero_ids else key
            if args.labels == 'array':
                payload = pack(0, 0, rid, rid2, [label, 1.0], image)  # face2rec2: [identity, aligned]
            else:
                payload = pack(0, label, rid, rid2, None, image)
            parts = append(key, payload)
            if key == split_key:
                split_parts = parts
            images.append(dict(key=key, label=label, shape=shape, bgr=bgr,
                               sha256=hashlib.sha256(image).hexdigest()))
    header = None
    if args.header and args.header_form == 'first-end':
        # header labels [first image key, end key), no identity records: stored after the images,
        # index line first
        header = [1.0, float(n + 1)]
        append(0, pack(0, 0, 0, 0, header, b''))
        index.insert(0, index.pop())
    elif args.header:
        # face2rec2 order: images 1..N, then the header record (key 0), then identity records.
        end = n + 1
        header = [float(end), float(end + identities)]
        append(0, pack(0, 0, 0, 0, header, b''))
        for ident, (start, stop) in enumerate(ranges):
            append(end + ident, pack(0, 0, end + ident, 0, [float(start), float(stop)], b''))
    with open(os.path.join(args.out, 'train.rec'), 'wb') as f:
        f.write(rec)
    with open(os.path.join(args.out, 'train.idx'), 'w') as f:
        for key, offset in index:
            f.write('%d\t%d\n' % (key, offset))
    if args.property:
        with open(os.path.join(args.out, 'property'), 'w') as f:
            f.write('%d,112,112' % args.property)
    manifest = dict(images=images, index=index, header=header, split_key=split_key, split_parts=split_parts,
                    records=len(index), rec_size=len(rec))
    with open(os.path.join(args.out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f)


# ----------------------------------------------------------------------------------------------
# read

def read_pack(args):
    data = open(os.path.join(args.pack, 'train.rec'), 'rb').read()
    index = []
    for line in open(os.path.join(args.pack, 'train.idx')):
        key, offset = line.strip().split('\t')
        index.append((int(key), int(offset)))
    offsets = dict(index)
    records = {}
    for key, offset in index:
        payload, _, parts = decode_record(data, offset)
        header, image = unpack(payload)
        entry = dict(header, parts=parts, image_bytes=len(image), shape=None, sha256=None, bgr_mean=None)
        if image:
            decoded = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
            if decoded is not None:
                entry['shape'] = list(decoded.shape)
                entry['bgr_mean'] = [float(x) for x in decoded.reshape(-1, 3).mean(axis=0)]
            entry['sha256'] = hashlib.sha256(image).hexdigest()
        records[str(key)] = entry
    # The sequential walk MXNet's MXRecordIO.read() does, for the split count and record order.
    walk = []
    pos = 0
    split_records = 0
    while pos < len(data):
        payload, nxt, parts = decode_record(data, pos)
        walk.append([unpack(payload)[0]['id'], pos])
        split_records += parts > 1
        pos = nxt
    # arcface_torch MXFaceDataset: header record at key 0 when flag > 0, images 1..label[0]-1.
    first = records.get('0')
    if first is not None and first['flag'] > 0:
        header = first['labels']
        image_keys = list(range(1, int(header[0])))
    else:
        header = None
        image_keys = [key for key, _ in index]
    image_labels = []
    for key in image_keys:
        r = records[str(key)]
        image_labels.append(r['labels'][0] if r['flag'] > 0 else r['label'])
    prop = None
    if os.path.exists(os.path.join(args.pack, 'property')):
        prop = open(os.path.join(args.pack, 'property')).read()
    json.dump(dict(index=index, records=records, walk=walk, split_records=split_records, header=header,
                   image_keys=image_keys, image_labels=image_labels, property=prop), sys.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='mode', required=True)
    w = sub.add_parser('write')
    w.add_argument('out')
    w.add_argument('--header', action='store_true', help='insightface header record at key 0 (images from key 1)')
    w.add_argument('--header-form', choices=['insightface', 'first-end'], default='insightface',
                   help='header labels: [end of images, end of identity records) or [first image key, end key)')
    w.add_argument('--labels', choices=['scalar', 'array'], default='scalar')
    w.add_argument('--identities', type=int, default=3)
    w.add_argument('--per-identity', type=int, default=3)
    w.add_argument('--split', action='store_true', help='one image payload holds the magic number')
    w.add_argument('--zero-ids', action='store_true', help='leave every IRHeader id at 0')
    w.add_argument('--bad-label', help='KEY=VALUE: store VALUE as that image key\'s label')
    w.add_argument('--property', type=int, help='write a property file with this many classes')
    r = sub.add_parser('read')
    r.add_argument('pack')
    args = parser.parse_args()
    if args.mode == 'write':
        write_pack(args)
    else:
        read_pack(args)


if __name__ == '__main__':
    main()
