#!/usr/bin/env python3
"""Reference reader/writer for torch.save checkpoints and safetensors files, without torch (stdlib + numpy).

The Java tests use it as an independent implementation, in both directions:

  write-pth DIR      write .pth fixtures the way torch.save does (pickle protocol 2 through pickle.Pickler with
                     torch's persistent_id and Tensor.__reduce_ex__ shapes, stand-in `torch` modules so pickle writes
                     the real GLOBAL names, and a ZIP laid out as PyTorchStreamWriter/miniz lays it out), plus
                     DIR/expected.json: a summary of each fixture computed from the numpy arrays, not from the files.
  summarize-pth FILE... read a .pth (e.g. one written by Java) with a restricted pickle.Unpickler, check its ZIP layout
                     against torch's (64-byte aligned records, "FB" padding field, record names, data descriptors,
                     ZIP64 end records) and print {"summary": ..., "layout": ...} as JSON.
  write-st DIR       write safetensors fixtures + DIR/expected.json.
  summarize-st FILE  read a safetensors file per the spec and print {"summary": ..., "layout": ...}.
  f16 IN OUT         convert little-endian float32 values to float16 with numpy (round to nearest even).

Summaries are JSON trees; floats are given as the hex bits of their float64 value so that NaN, -0.0 and
infinities compare exactly; tensors as dtype, shape, sha256 of their contiguous little-endian bytes and their first
values.

What torch does, and where it says so:
  torch/serialization.py _save: persistent_id returns ('storage', getattr(torch, '<X>Storage'), key, 'cpu', numel)
    with keys '0', '1', ... in order of first use; records data.pkl, .format_version ("1"), .storage_alignment
    ("64"), byteorder, data/<key>; PyTorchStreamWriter::writeEndOfFile adds version ("3\\n") and
    .data/serialization_id.
  torch/_tensor.py Tensor._reduce_ex_internal: (torch._utils._rebuild_tensor_v2,
    (storage, storage_offset, tuple(size), stride, requires_grad, OrderedDict()))
  caffe2/serialize/inline_container.cc detail::getPadding: extra field "FB" + le16(n) + n*'Z' so data starts at a
    multiple of kFieldAlignment = 64.
  third_party/miniz-3.0.2/miniz.c mz_zip_writer_add_mem_ex_v2 (flags 0x0800 | 0x0008, zero CRC/sizes in the local
    header, data descriptor after the data) and mz_zip_writer_finalize_archive (ZIP64 end record + locator when the
    writer is opened with MZ_ZIP_FLAG_WRITE_ZIP64, which PyTorchStreamWriter does).
"""

import collections
import hashlib
import io
import json
import os
import pickle
import pickletools
import struct
import sys
import types
import zipfile
import zlib

import numpy as np

# ----------------------------------------------------------------------------------------------------------------
# dtypes

DTYPES = {
    # name: (numpy dtype or None for bf16, storage class, itemsize)
    'F32': ('<f4', 'FloatStorage', 4),
    'F16': ('<f2', 'HalfStorage', 2),
    'BF16': (None, 'BFloat16Storage', 2),
    'F64': ('<f8', 'DoubleStorage', 8),
    'I64': ('<i8', 'LongStorage', 8),
    'I32': ('<i4', 'IntStorage', 4),
    'I16': ('<i2', 'ShortStorage', 2),
    'I8': ('i1', 'CharStorage', 1),
    'U8': ('u1', 'ByteStorage', 1),
    'BOOL': ('?', 'BoolStorage', 1),
}
STORAGE_TO_DTYPE = {v[1]: k for k, v in DTYPES.items()}


def storage_numpy_dtype(name):
    """bf16 has no numpy dtype: its storage is handled as raw uint16 bit patterns."""
    return np.dtype('<u2') if name == 'BF16' else np.dtype(DTYPES[name][0])


def bf16_bits(values):
    """float32 values that are exactly representable in bfloat16 -> their uint16 bit patterns (exact truncation)."""
    bits = np.asarray(values, dtype='<f4').view('<u4')
    assert np.all(bits & 0xFFFF == 0), 'fixture values must be exact in bfloat16'
    return (bits >> 16).astype('<u2')


def f64_bits(x):
    return '%016x' % struct.unpack('<Q', struct.pack('<d', float(x)))[0]


class HostArray:
    """A tensor's logical value: dtype name + contiguous numpy array (uint16 bit patterns for BF16)."""

    def __init__(self, dtype, array):
        self.dtype = dtype
        self.array = np.array(array, order="C")  # not ascontiguousarray: that turns 0-d arrays into 1-d

    def float_values(self):
        a = self.array.reshape(-1)
        if self.dtype == 'BF16':
            return (a.astype('<u4') << 16).view('<f4').astype('<f8')
        return a


def summarize_tensor(t):
    a = t.array
    data = a.astype(a.dtype.newbyteorder('<'), copy=False).tobytes(order='C')
    values = t.float_values()[:16]
    if t.dtype in ('F32', 'F16', 'BF16', 'F64'):
        shown = [f64_bits(v) for v in values]
    else:
        shown = [int(v) for v in values]
    return {'kind': 'tensor', 'dtype': t.dtype, 'shape': [int(d) for d in a.shape],
            'sha256': hashlib.sha256(data).hexdigest(), 'values': shown}


def summarize(obj):
    if isinstance(obj, HostArray):
        return summarize_tensor(obj)
    if isinstance(obj, FakeTensor):
        return summarize_tensor(obj.logical())
    if isinstance(obj, FakeParameter):
        return summarize_tensor(obj.data.logical())
    if obj is None:
        return {'kind': 'none'}
    if isinstance(obj, bool):
        return {'kind': 'bool', 'value': obj}
    if isinstance(obj, int):
        return {'kind': 'int', 'value': obj}
    if isinstance(obj, float):
        return {'kind': 'float', 'bits': f64_bits(obj)}
    if isinstance(obj, str):
        return {'kind': 'str', 'value': obj}
    if isinstance(obj, (bytes, bytearray)):
        return {'kind': 'bytes', 'hex': bytes(obj).hex()}
    if isinstance(obj, collections.OrderedDict):
        return {'kind': 'ordered_dict', 'items': [[summarize(k), summarize(v)] for k, v in obj.items()]}
    if isinstance(obj, dict):
        return {'kind': 'dict', 'items': [[summarize(k), summarize(v)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {'kind': 'tuple', 'items': [summarize(v) for v in obj]}
    if isinstance(obj, list):
        return {'kind': 'list', 'items': [summarize(v) for v in obj]}
    if isinstance(obj, (set, frozenset)):
        return {'kind': 'set', 'items': [summarize(v) for v in obj]}
    raise TypeError('cannot summarize %r' % type(obj))


# ----------------------------------------------------------------------------------------------------------------
# writing .pth like torch.save, with stand-in torch modules

def install_fake_torch():
    """Register modules named torch and torch._utils whose attributes pickle by reference under torch's names."""
    torch = types.ModuleType('torch')
    utils = types.ModuleType('torch._utils')
    torch._utils = utils
    for dtype, (_, cls_name, _) in DTYPES.items():
        setattr(torch, cls_name, type(cls_name, (), {'__module__': 'torch', 'dtype': dtype}))

    def _rebuild_tensor_v2(*args):
        raise AssertionError('writer-side stand-in, never called')

    def _rebuild_parameter(*args):
        raise AssertionError('writer-side stand-in, never called')

    for fn in (_rebuild_tensor_v2, _rebuild_parameter):
        fn.__module__ = 'torch._utils'
        fn.__qualname__ = fn.__name__
        setattr(utils, fn.__name__, fn)
    sys.modules['torch'] = torch
    sys.modules['torch._utils'] = utils
    return torch


class FakeStorage:
    """A typed storage: dtype + flat numpy array (uint16 bits for BF16)."""

    def __init__(self, dtype, flat):
        self.dtype = dtype
        self.flat = np.ascontiguousarray(flat).reshape(-1)


class FakeTensor:
    """A view (offset, size, stride in elements) of a FakeStorage; pickles like torch.Tensor."""

    def __init__(self, storage, offset, size, stride):
        # Fresh tuples, as torch's tuple(self.size()) and self.stride() are: the compiler shares equal constant
        # tuples of the fixture code, and the pickler would then memoize them where torch.save does not.
        self.storage, self.offset = storage, offset
        self.size, self.stride = tuple(int(d) for d in size), tuple(int(s) for s in stride)

    def logical(self):
        flat = self.storage.flat
        item = flat.dtype.itemsize
        if int(np.prod(self.size)) == 0:
            view = np.zeros(self.size, dtype=flat.dtype)
        else:
            view = np.lib.stride_tricks.as_strided(flat[self.offset:], shape=self.size,
                                                   strides=[s * item for s in self.stride])
        return HostArray(self.storage.dtype, np.array(view))

    def __reduce_ex__(self, protocol):
        torch = sys.modules['torch']
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))


class FakeParameter:
    """nn.Parameter pickles as torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)."""

    def __init__(self, data):
        self.data = data

    def __reduce_ex__(self, protocol):
        torch = sys.modules['torch']
        return (torch._utils._rebuild_parameter, (self.data, True, collections.OrderedDict()))


def contiguous(dtype, values, shape):
    """A new contiguous tensor with its own storage."""
    if dtype == 'BF16':
        flat = bf16_bits(np.asarray(values, dtype='<f4').reshape(-1))
    else:
        flat = np.asarray(values, dtype=DTYPES[dtype][0]).reshape(-1)
    stride, s = [], 1
    for d in reversed(shape):
        stride.insert(0, s)
        s *= max(d, 1)
    return FakeTensor(FakeStorage(dtype, flat), 0, shape, stride)


def pickle_like_torch(obj, protocol):
    """torch/serialization.py _save: pickle with a persistent_id for storages; returns (data.pkl, storages)."""
    torch = sys.modules['torch']
    id_map = {}
    storages = {}

    class TorchLikePickler(pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, FakeStorage):
                key = id_map.setdefault(id(o), str(len(id_map)))
                storages[key] = o
                return ('storage', getattr(torch, DTYPES[o.dtype][1]), key, 'cpu', o.flat.size)
            return None

    buf = io.BytesIO()
    TorchLikePickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue(), storages


class MinizStyleZipWriter:
    """The ZIP layout PyTorchStreamWriter produces through miniz (see the module docstring)."""

    def __init__(self, f, archive_name):
        self.f, self.name, self.central, self.count, self.names = f, archive_name, [], 0, []

    def write_record(self, name, data):
        data = bytes(data)
        full = (self.name + '/' + name).encode('utf-8')
        offset = self.f.tell()
        assert offset < 0xFFFFFFFF and len(data) < 0xFFFFFFFF, 'fixtures stay below 4 GiB'
        start = offset + 30 + len(full) + 4
        pad = (64 - start % 64) % 64
        extra = b'FB' + struct.pack('<H', pad) + b'Z' * pad
        flags = 0x0800 | (0x0008 if data else 0)
        crc = zlib.crc32(data) & 0xFFFFFFFF
        self.f.write(struct.pack('<IHHHHHIIIHH', 0x04034b50, 0, flags, 0, 0, 0x21, 0, 0, 0, len(full), len(extra)))
        self.f.write(full + extra)
        assert self.f.tell() % 64 == 0
        self.f.write(data)
        if data:
            self.f.write(struct.pack('<IIII', 0x08074b50, crc, len(data), len(data)))
        self.central.append(struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 0, 0, flags, 0, 0, 0x21, crc, len(data),
                                        len(data), len(full), 0, 0, 0, 0, 0, offset) + full)
        self.count += 1
        self.names.append(name)

    def finish(self):
        self.write_record('version', b'3\n')
        self.write_record('.data/serialization_id', b'%040d' % 1234567890)
        cd_offset = self.f.tell()
        cd = b''.join(self.central)
        self.f.write(cd)
        z64 = self.f.tell()
        self.f.write(struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 0x031E, 0x002D, 0, 0, self.count, self.count,
                                 len(cd), cd_offset))
        self.f.write(struct.pack('<IIQI', 0x07064b50, 0, z64, 1))
        self.f.write(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, self.count, self.count, len(cd), cd_offset, 0))


def torch_save(obj, path, protocol=2, archive_name=None):
    data_pkl, storages = pickle_like_torch(obj, protocol)
    if archive_name is None:
        archive_name = os.path.splitext(os.path.basename(path))[0]
    with open(path, 'wb') as f:
        z = MinizStyleZipWriter(f, archive_name)
        z.write_record('data.pkl', data_pkl)
        z.write_record('.format_version', b'1')
        z.write_record('.storage_alignment', b'64')
        z.write_record('byteorder', b'little')
        for key in storages:
            s = storages[key]
            z.write_record('data/' + key, s.flat.astype(s.flat.dtype.newbyteorder('<'), copy=False).tobytes())
        z.finish()
    with zipfile.ZipFile(path) as check:  # the stdlib must accept it too (CRCs, central directory, ZIP64 end)
        assert check.testzip() is None


def torch_save_with_zipfile_module(obj, path, archive_name='archive'):
    """A second layout: Python's zipfile (real sizes in local headers, no descriptors), data.pkl deflated, and the
    'archive' folder torch uses when saving to a file-like object."""
    data_pkl, storages = pickle_like_torch(obj, 2)
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr(zipfile.ZipInfo(archive_name + '/data.pkl'), data_pkl, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr(archive_name + '/byteorder', b'little')
        for key, s in storages.items():
            z.writestr(archive_name + '/data/' + key, s.flat.tobytes())
        z.writestr(archive_name + '/version', b'3\n')


def fixtures():
    """name -> (object, protocol, writer)."""
    rng = np.random.default_rng(1234)
    out = {}

    # MiniMind's torch.save({k: v.half() for k, v in state_dict.items()}, path): a plain dict of fp16 tensors.
    out['half_dict'] = ({
        'model.embed_tokens.weight': contiguous('F16', rng.standard_normal((8, 4)).astype('<f2'), (8, 4)),
        'model.layers.0.self_attn.q_proj.weight': contiguous('F16', rng.standard_normal((4, 4)), (4, 4)),
        'model.norm.weight': contiguous('F16', [1.0, 65504.0, -0.0, 6.1035156e-05, 5.9604645e-08, float('inf'),
                                                 float('-inf'), float('nan')], (8,)),
    }, 2, 'miniz')

    # Every dtype, a scalar and an empty tensor.
    out['dtypes'] = ({
        'f32': contiguous('F32', rng.standard_normal((3, 5)), (3, 5)),
        'bf16': contiguous('BF16', [1.0, -2.5, 0.15625, 3.0e38 * 0 + 2.0 ** 100, -0.0, 0.0078125], (2, 3)),
        'f64': contiguous('F64', [np.pi, -1e-300, 1e300], (3,)),
        'i64': contiguous('I64', [0, -1, 2 ** 62, -2 ** 63], (2, 2)),
        'i32': contiguous('I32', [7, -7, 2 ** 31 - 1], (3,)),
        'i16': contiguous('I16', [-32768, 32767], (2,)),
        'i8': contiguous('I8', [-128, 127, 0], (3,)),
        'u8': contiguous('U8', [0, 255, 17], (3,)),
        'bool': contiguous('BOOL', [True, False, True, True], (2, 2)),
        'scalar': contiguous('F32', [3.0], ()),
        'empty': contiguous('F32', [], (0, 3)),
    }, 2, 'miniz')

    # model.state_dict(): an OrderedDict carrying a _metadata attribute (pickled through BUILD).
    sd = collections.OrderedDict()
    sd['lm_head.weight'] = contiguous('F32', rng.standard_normal((6, 4)), (6, 4))
    sd['model.norm.weight'] = contiguous('F32', np.ones(4), (4,))
    sd._metadata = collections.OrderedDict([('', {'version': 1}), ('model', {'version': 1}),
                                            ('model.norm', {'version': 1})])
    out['state_dict'] = (sd, 2, 'miniz')

    # Views of one storage: tied weights (same storage, same view), a transpose, an offset slice, a strided pick.
    base = FakeStorage('F32', np.arange(24, dtype='<f4') * 0.5 - 3)
    out['views'] = ({
        'embed.weight': FakeTensor(base, 0, (6, 4), (4, 1)),
        'lm_head.weight': FakeTensor(base, 0, (6, 4), (4, 1)),
        'transposed': FakeTensor(base, 0, (4, 6), (1, 4)),
        'rows_2_to_3': FakeTensor(base, 8, (2, 4), (4, 1)),
        'strided': FakeTensor(base, 1, (3, 2), (8, 2)),
        'broadcast': FakeTensor(base, 5, (3, 2), (0, 1)),
        'column': FakeTensor(base, 3, (6, 1), (4, 1)),
    }, 2, 'miniz')

    # A MiniMind-style resume file: weights, AdamW state, counters, scaler state, plus odd values.
    model = collections.OrderedDict()
    shared = contiguous('F32', rng.standard_normal((5, 3)), (5, 3))
    model['model.embed_tokens.weight'] = shared
    model['lm_head.weight'] = FakeTensor(shared.storage, 0, (5, 3), (3, 1))
    model['model.norm.weight'] = contiguous('F32', np.ones(3), (3,))
    model._metadata = collections.OrderedDict([('', {'version': 1})])
    state = {}
    for i, name in enumerate(model):
        if name == 'lm_head.weight':
            continue
        shape = model[name].size
        state[len(state)] = {'step': contiguous('F32', [1234.0], ()),
                             'exp_avg': contiguous('F32', rng.standard_normal(shape) * 1e-3, shape),
                             'exp_avg_sq': contiguous('F32', rng.random(shape) * 1e-6, shape)}
    resume = {
        'model': model,
        'optimizer': {'state': state, 'param_groups': [{
            'lr': 5e-4, 'betas': (0.9, 0.999), 'eps': 1e-08, 'weight_decay': 0.0, 'amsgrad': False,
            'maximize': False, 'foreach': None, 'capturable': False, 'differentiable': False, 'fused': None,
            'decoupled_weight_decay': True, 'initial_lr': 5e-4, 'params': [0, 1]}]},
        'epoch': 1,
        'step': 1234,
        'world_size': 1,
        'wandb_id': None,
        'scaler': {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5, 'growth_interval': 2000,
                   '_growth_tracker': 0},
        'parameter': FakeParameter(contiguous('F16', [0.5, -0.25], (2,))),
        'numbers': [0, 255, 256, 65535, 65536, -1, -2 ** 31, 2 ** 31, -2 ** 40, 2 ** 63 - 1, 2 ** 70, -2 ** 70,
                    1.5, -0.0, float('inf'), float('nan'), True, False, None],
        'text': ['', 'ascii', 'ünïcödé 模型 🙂', 'x' * 300],
        'raw': [b'', b'\x00\x01\xfe\xff', bytes(range(256))],
        'nested_tuple': (1, (2, 3), (), ('a',), (1, 2, 3, 4)),
        'many': list(range(1500)) + ['s%d' % i for i in range(300)],
        'int_keys': {0: 'zero', -7: 'minus seven', 2 ** 40: 'big'},
        'same_list_twice': None,
    }
    shared_list = [1, 2]
    resume['same_list_twice'] = [shared_list, shared_list]
    out['resume'] = (resume, 2, 'miniz')
    for proto in (3, 4, 5):
        out['resume_proto%d' % proto] = (resume, proto, 'miniz')

    out['zipfile_layout'] = ({
        'weight': contiguous('F16', rng.standard_normal((3, 3)), (3, 3)),
        'bias': contiguous('F32', [0.25, -0.5, 1.0], (3,)),
    }, 2, 'zipfile')

    # MiniMind saves to '<name>.pth.tmp' then renames: torch names the folder after 'full_sft_512.pth'.
    out['dotted_folder'] = ({'w': contiguous('F16', [1.0, 2.0], (2,))}, 2, 'miniz:full_sft_512.pth')
    return out


def cmd_write_pth(out_dir):
    install_fake_torch()
    os.makedirs(out_dir, exist_ok=True)
    expected = {}
    for name, (obj, protocol, writer) in fixtures().items():
        path = os.path.join(out_dir, name + '.pth')
        if writer == 'zipfile':
            torch_save_with_zipfile_module(obj, path)
        elif writer.startswith('miniz:'):
            torch_save(obj, path, protocol, archive_name=writer.split(':', 1)[1])
        else:
            torch_save(obj, path, protocol)
        expected[name] = summarize(obj)

    # Refusals: a global outside the whitelist, and the legacy (pre-1.6) stream format.
    import argparse
    torch_save({'args': argparse.Namespace(lr=1e-3), 'w': contiguous('F32', [1.0], (1,))},
               os.path.join(out_dir, 'unknown_global.pth'))
    with open(os.path.join(out_dir, 'legacy.pth'), 'wb') as f:
        # torch/serialization.py _legacy_save: magic number, protocol version, sys_info, then the object.
        pickle.dump(0x1950a86a20f9469cfc6c, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({'protocol_version': 1001, 'little_endian': True,
                     'type_sizes': {'short': 2, 'int': 4, 'long': 8}}, f, protocol=2)
    with open(os.path.join(out_dir, 'expected.json'), 'w') as f:
        json.dump(expected, f, sort_keys=True)


# ----------------------------------------------------------------------------------------------------------------
# reading .pth with a restricted unpickler

def read_pth(path):
    """torch.load-like reading: a whitelist of globals, storages from data/<key>, views via numpy as_strided."""
    layout = {}
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        names = [i.filename for i in infos]
        prefix = names[0].split('/')[0]
        layout['archive_name'] = prefix
        layout['records'] = [n[len(prefix) + 1:] for n in names]
        layout['all_in_folder'] = all(n.startswith(prefix + '/') for n in names)
        layout['crc_ok'] = z.testzip() is None

        def record(name):
            return z.read(prefix + '/' + name)

        layout['version'] = record('version').decode()
        layout['byteorder'] = record('byteorder').decode()
        layout['format_version'] = record('.format_version').decode() if prefix + '/.format_version' in names else None
        layout['storage_alignment'] = (record('.storage_alignment').decode()
                                       if prefix + '/.storage_alignment' in names else None)
        sid = record('.data/serialization_id').decode() if prefix + '/.data/serialization_id' in names else ''
        layout['serialization_id_ok'] = len(sid) == 40 and sid.isdigit()

        # Local headers: data aligned to 64, extra field = "FB" + le16(pad) + pad*'Z', data descriptor after data.
        raw = open(path, 'rb').read()
        aligned, padding_ok, descriptors_ok, flags = True, True, True, set()
        for info in infos:
            h = info.header_offset
            sig, _, flag, method, _, _, crc, csize, usize, nlen, xlen = struct.unpack('<IHHHHHIIIHH', raw[h:h + 30])
            assert sig == 0x04034b50
            flags.add(flag)
            extra = raw[h + 30 + nlen:h + 30 + nlen + xlen]
            data_at = h + 30 + nlen + xlen
            aligned &= data_at % 64 == 0
            pad = struct.unpack('<H', extra[2:4])[0] if len(extra) >= 4 else -1
            padding_ok &= extra[:2] == b'FB' and pad == xlen - 4 and extra[4:] == b'Z' * pad
            if info.file_size > 0:
                d = raw[data_at + info.file_size:data_at + info.file_size + 16]
                descriptors_ok &= d[:4] == b'PK\x07\x08' and struct.unpack('<III', d[4:16]) == (
                    info.CRC, info.file_size, info.file_size)
            descriptors_ok &= info.compress_type == zipfile.ZIP_STORED
        layout['data_aligned_64'] = aligned
        layout['fb_padding_ok'] = padding_ok
        layout['data_descriptors_ok'] = descriptors_ok
        layout['flags'] = sorted(flags)
        eocd = raw.rfind(b'PK\x05\x06')
        layout['zip64_end_records'] = raw[eocd - 20:eocd - 16] == b'PK\x06\x07' and b'PK\x06\x06' in raw[-200:]

        data_pkl = record('data.pkl')
        layout['pickle_protocol'] = data_pkl[1] if data_pkl[:1] == b'\x80' else 0
        pickletools.dis(data_pkl, out=io.StringIO())  # raises on malformed streams (memo, marks, stack)
        layout['opcodes'] = sorted({op.name for op, _, _ in pickletools.genops(data_pkl)})

        storages = {}

        def persistent_load(pid):
            assert isinstance(pid, tuple) and len(pid) == 5 and pid[0] == 'storage', pid
            _, storage_class, key, location, numel = pid
            assert location == 'cpu', location
            dtype = storage_class
            if key not in storages:
                data = record('data/' + key)
                nd = storage_numpy_dtype(dtype)
                assert len(data) == numel * nd.itemsize, (key, len(data), numel)
                storages[key] = (dtype, np.frombuffer(data, dtype=nd))
            assert storages[key][0] == dtype
            return storages[key]

        def rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, metadata=None):
            assert isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride)
            assert requires_grad is False and isinstance(hooks, collections.OrderedDict) and not hooks
            dtype, flat = storage
            item = flat.dtype.itemsize
            if int(np.prod(size)) == 0:
                return HostArray(dtype, np.zeros(size, dtype=flat.dtype))
            assert offset + sum((n - 1) * s for n, s in zip(size, stride)) < flat.size
            view = np.lib.stride_tricks.as_strided(flat[offset:], shape=size, strides=[s * item for s in stride])
            return HostArray(dtype, np.array(view))

        allowed = {('torch._utils', '_rebuild_tensor_v2'): rebuild_tensor_v2,
                   ('torch._utils', '_rebuild_parameter'): lambda data, requires_grad, hooks: data,
                   ('collections', 'OrderedDict'): collections.OrderedDict,
                   ('_codecs', 'encode'): lambda text, enc: text.encode(enc),
                   ('__builtin__', 'bytes'): bytes, ('__builtin__', 'set'): set,
                   ('builtins', 'bytes'): bytes, ('builtins', 'set'): set}
        allowed.update({('torch', cls): name for name, (_, cls, _) in DTYPES.items()})

        class RestrictedUnpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if (module, name) not in allowed:
                    raise pickle.UnpicklingError('global %s.%s is not allowed' % (module, name))
                return allowed[(module, name)]

            def persistent_load(self, pid):
                return persistent_load(pid)

        obj = RestrictedUnpickler(io.BytesIO(data_pkl), encoding='utf-8').load()
        layout['storages_read'] = len(storages)
        layout['storage_records'] = sum(1 for n in layout['records'] if n.startswith('data/'))
    return obj, layout


def cmd_summarize_pth(*paths):
    """One file: {"summary", "layout"}; several: {path: {"summary", "layout"}} (one interpreter start for all)."""
    results = {}
    for path in paths:
        obj, layout = read_pth(path)
        results[path] = {'summary': summarize(obj), 'layout': layout}
    print(json.dumps(results[paths[0]] if len(paths) == 1 else results, sort_keys=True))


# ----------------------------------------------------------------------------------------------------------------
# safetensors

def st_write(path, tensors, metadata):
    """huggingface/safetensors format: le64 header size, compact JSON header padded with spaces to 8, data."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, t in tensors.items():
        data = t.array.tobytes()
        header[name] = {'dtype': t.dtype, 'shape': list(t.array.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def host(dtype, values, shape):
    if dtype == 'BF16':
        return HostArray(dtype, bf16_bits(np.asarray(values, dtype='<f4').reshape(-1)).reshape(shape))
    return HostArray(dtype, np.asarray(values, dtype=DTYPES[dtype][0]).reshape(shape))


def cmd_write_st(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(99)
    tensors = collections.OrderedDict()
    # Ordered as the reference writer orders them (larger element types first, then by name), not by insertion.
    tensors['a.f64'] = host('F64', [1.0 / 3, -2.0], (2,))
    tensors['b.i64'] = host('I64', [2 ** 62, -3], (2,))
    tensors['c.f32'] = host('F32', rng.standard_normal((2, 3)), (2, 3))
    tensors['d.i32'] = host('I32', [1, -2, 3], (3,))
    tensors['e.scalar'] = host('F32', [7.5], ())
    tensors['f.bf16'] = host('BF16', [1.0, -0.5, 256.0, 0.0078125], (2, 2))
    tensors['g.f16'] = host('F16', [0.1, -65504.0, 6.1e-05, 1e-07], (4,))
    tensors['h.i16'] = host('I16', [-3, 4], (1, 2))
    tensors['i.empty'] = host('F16', [], (0, 4))
    tensors['j.bool'] = host('BOOL', [True, False], (2,))
    tensors['k.i8'] = host('I8', [-1, 1], (2,))
    tensors['l.u8'] = host('U8', [200, 1, 2], (3,))
    metadata = {'format': 'pt', 'note': 'ünï'}
    st_write(os.path.join(out_dir, 'all_dtypes.safetensors'), tensors, metadata)
    st_write(os.path.join(out_dir, 'no_metadata.safetensors'), {'w': host('F32', [1.0, 2.0], (2,))}, None)
    expected = {'all_dtypes': {'tensors': summarize(dict(tensors)), 'metadata': metadata},
                'no_metadata': {'tensors': summarize({'w': host('F32', [1.0, 2.0], (2,))}), 'metadata': {}}}
    with open(os.path.join(out_dir, 'expected.json'), 'w') as f:
        json.dump(expected, f, sort_keys=True)


def cmd_summarize_st(path):
    raw = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', raw[:8])
    text = raw[8:8 + n]
    header = json.loads(text, object_pairs_hook=collections.OrderedDict)
    layout = {'header_starts_with_brace': text[:1] == b'{', 'header_len_multiple_of_8': n % 8 == 0,
              'padding_is_spaces': text.rstrip(b' ') == text.rstrip(b' \x00') and text.endswith(b'}' + b' ' * (
                  len(text) - len(text.rstrip(b' ')))),
              'keys': list(header.keys())}
    metadata = header.pop('__metadata__', {})
    data = raw[8 + n:]
    tensors, spans = collections.OrderedDict(), []
    for name, spec in header.items():
        begin, end = spec['data_offsets']
        nd = storage_numpy_dtype(spec['dtype'])
        count = int(np.prod(spec['shape'])) if spec['shape'] else 1
        assert end - begin == count * nd.itemsize, name
        tensors[name] = HostArray(spec['dtype'], np.frombuffer(data[begin:end], dtype=nd).reshape(spec['shape']))
        spans.append((begin, end))
    cursor = 0
    for begin, end in sorted(spans):
        assert begin == cursor, 'gap or overlap'
        cursor = end
    layout['data_tiled_exactly'] = cursor == len(data)
    print(json.dumps({'summary': {'tensors': summarize(dict(tensors)), 'metadata': metadata}, 'layout': layout},
                     sort_keys=True))


# ----------------------------------------------------------------------------------------------------------------

def cmd_f16(src, dst):
    np.fromfile(src, dtype='<f4').astype('<f2').tofile(dst)


def main(argv):
    commands = {'write-pth': cmd_write_pth, 'summarize-pth': cmd_summarize_pth, 'write-st': cmd_write_st,
                'summarize-st': cmd_summarize_st, 'f16': cmd_f16}
    if len(argv) < 2 or argv[1] not in commands:
        sys.exit('usage: torch_pickle_ref.py {%s} ARGS' % ','.join(commands))
    commands[argv[1]](*argv[2:])


if __name__ == '__main__':
    main(sys.argv)
