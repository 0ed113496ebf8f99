#!/usr/bin/python3
"""Writes the checkpoint-format fixtures under packages/convnext/test/fixtures/pth/.

Run from the repository root with Debian's python3-torch (tested with torch 1.13):

    /usr/bin/python3 packages/convnext/scripts/gen_pth_fixtures.py

Files (all small; the tests need no PyTorch):

* small_state_dict.pth      {"model": OrderedDict} with every dtype the reader converts
                            (float32/64, float16, bfloat16, int64/32/16/8, uint8, bool),
                            a 0-d tensor, an empty tensor, a transposed (non-contiguous)
                            tensor, a strided slice with a storage offset sharing its
                            storage with another entry, and an expanded (stride 0) tensor.
* convnext_mini_official.pth {"model": state_dict()} of a replica of the official ConvNeXt
                            module layout (dims 4/8/12/16, depths 1/1/1/1, 5 classes,
                            random parameters), including the state dict's _metadata.
* convnext_mini_timm.pth    {"state_dict": ...} the same weights in timm naming, mapped
                            here independently of the TypeScript code, with conv_mlp-style
                            4-D mlp.fc1/fc2 weights.
* convnext_mini_io.pth      {"input": [1,3,32,32], "logits": [1,5]} forward of the replica.
* dp_prefixed.pth           a bare state dict whose keys all start with "module.".
* training_checkpoint.pth   {"model", "optimizer", "epoch", "args": argparse.Namespace}.
* forbidden_global.pth      a dict holding os.system (a GLOBAL the reader must refuse).
* int64_overflow.pth        an int64 tensor with a value outside int32.
* legacy_format.pth         saved with _use_new_zipfile_serialization=False (refused).
* hand_written.safetensors  safetensors written byte by byte here (header length not a
                            multiple of 8, data order different from header order).
* expected.json             values, shapes and dtypes the tests compare against.

If tsgrad_written.safetensors exists (written by the TypeScript writer; the nn tests check
that the writer still produces exactly these bytes), it is parsed here independently and
compared against expected.json["writer_input"]; the script fails if they differ.
"""
import argparse
import collections
import json
import math
import os
import struct
import sys

import torch

from convnext_torch import ConvNeXt  # the shared PyTorch model, beside this script

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "pth")


def enc(v):
    """JSON-safe float: non-finite values as strings."""
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
    return v


def describe(t):
    """Expected record of a tensor: torch dtype, shape, stride, offset and row-major values."""
    vals = t.detach().contiguous().reshape(-1)
    if t.dtype in (torch.float16, torch.bfloat16):
        vals = vals.float()
    if t.dtype == torch.bool:
        lst = [1 if b else 0 for b in vals.tolist()]
    else:
        lst = [enc(x) for x in vals.tolist()]
    return {
        "dtype": str(t.dtype).replace("torch.", ""),
        "shape": list(t.shape),
        "stride": list(t.stride()),
        "storage_offset": t.storage_offset(),
        "contiguous": t.is_contiguous(),
        "values": lst,
    }


def small_state_dict():
    g = torch.Generator().manual_seed(0)
    sd = collections.OrderedDict()
    sd["downsample_layers.0.0.weight"] = torch.randn(4, 3, 2, 2, generator=g)
    sd["downsample_layers.0.0.bias"] = torch.randn(4, generator=g)
    sd["stages.0.0.gamma"] = torch.full((4,), 1e-6)
    # Non-contiguous: a transpose (stride (1, 5)).
    sd["stages.0.0.pwconv1.weight"] = torch.randn(3, 5, generator=g).t()
    # A strided slice with a storage offset, sharing its storage with "base".
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    sd["base"] = base
    sd["sliced"] = base[1:3, ::2]
    # Stride 0 (expand) keeps the small storage.
    sd["expanded"] = torch.tensor([1.5, -2.0, 3.25]).expand(2, 3)
    sd["half"] = torch.tensor([[0.0, -0.0, 1.0], [65504.0, 6e-8, -2.5]], dtype=torch.float16)
    sd["half_inf"] = torch.tensor([float("inf"), float("-inf"), 0.33325], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -3.140625, 1e30, 2.0 ** -100], dtype=torch.bfloat16)
    sd["f64"] = torch.tensor([1.0 / 3.0, -1e300, 5e-324], dtype=torch.float64)
    sd["i64"] = torch.tensor([0, -1, 2 ** 31 - 1, -(2 ** 31), 123456789], dtype=torch.int64)
    sd["i32"] = torch.tensor([[7, -8], [2 ** 31 - 1, -(2 ** 31)]], dtype=torch.int32)
    sd["i16"] = torch.tensor([-32768, 32767, 5], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 127, 0], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 1, 128, 255], dtype=torch.uint8)
    sd["mask"] = torch.tensor([[True, False], [False, True]])
    sd["scalar"] = torch.tensor(2.5)
    sd["num_batches_tracked"] = torch.tensor(42, dtype=torch.int64)
    sd["empty"] = torch.zeros(0, 3)
    assert not sd["stages.0.0.pwconv1.weight"].is_contiguous()
    assert sd["sliced"].storage_offset() == 6 and not sd["sliced"].is_contiguous()
    return sd


def MiniConvNeXt():
    """The official module layout at dims 4/8/12/16, depths 1/1/1/1, 5 classes."""
    return ConvNeXt(in_chans=3, num_classes=5, depths=(1, 1, 1, 1), dims=(4, 8, 12, 16))


def official_to_timm(sd, conv_mlp):
    """timm's checkpoint_filter_fn (official -> timm), written out independently."""
    out = collections.OrderedDict()
    for k, v in sd.items():
        parts = k.split(".")
        if parts[0] == "downsample_layers":
            i = parts[1]
            nk = ("stem." if i == "0" else "stages.%s.downsample." % i) + ".".join(parts[2:])
        elif parts[0] == "stages":
            i, j, rest = parts[1], parts[2], ".".join(parts[3:])
            rest = rest.replace("dwconv", "conv_dw").replace("pwconv1", "mlp.fc1").replace("pwconv2", "mlp.fc2")
            nk = "stages.%s.blocks.%s.%s" % (i, j, rest)
            if conv_mlp and rest in ("mlp.fc1.weight", "mlp.fc2.weight"):
                v = v.reshape(v.shape[0], v.shape[1], 1, 1)
        elif parts[0] == "norm":
            nk = "head.norm." + ".".join(parts[1:])
        elif parts[0] == "head":
            nk = "head.fc." + ".".join(parts[1:])
        else:
            raise KeyError(k)
        out[nk] = v
    return out


def save(obj, name, **kw):
    path = os.path.join(OUT, name)
    torch.save(obj, path, **kw)
    return os.path.getsize(path)


def write_hand_safetensors(path, tensors, metadata):
    """safetensors by hand: data in reverse header order, header length NOT padded to 8."""
    header = collections.OrderedDict()
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    order = list(reversed(list(tensors.items())))
    for name, (dtype, t) in order:
        if t.dtype == torch.bfloat16:
            raw = t.contiguous().view(torch.int16).numpy().tobytes()
        else:
            raw = t.contiguous().numpy().tobytes()
        assert sys.byteorder == "little"
        blobs.append(raw)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    # Header order (JSON) is the original order; data order is reversed.
    hdr = collections.OrderedDict()
    if metadata is not None:
        hdr["__metadata__"] = metadata
    for name in tensors:
        hdr[name] = header[name]
    js = json.dumps(hdr).encode("utf-8")
    if len(js) % 8 == 0:
        js += b" "  # keep the data start unaligned on purpose
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)
    return os.path.getsize(path)


ST_DTYPES = {
    "F32": (torch.float32, 4), "F64": (torch.float64, 8), "I32": (torch.int32, 4), "BOOL": (torch.bool, 1),
    "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2), "I64": (torch.int64, 8),
}


def read_safetensors_independently(path):
    """A second, independent reader (struct + json + torch.frombuffer) to cross-check ours."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    assert 8 + n <= len(data), "header length beyond file"
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    assert n % 8 == 0, "our writer pads the header to a multiple of 8"
    assert data[8 : 8 + n].decode("utf-8").rstrip(" ") == data[8 : 8 + n].decode("utf-8").strip(), "padding must be trailing spaces"
    base = 8 + n
    meta = header.pop("__metadata__", None)
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1]) for v in header.values())
    pos = 0
    for b, e in spans:
        assert b == pos, "tensors must tile the buffer"
        pos = e
    assert base + pos == len(data), "buffer must end at the file's end"
    out = {}
    for name, info in header.items():
        dt, size = ST_DTYPES[info["dtype"]]
        b, e = info["data_offsets"]
        numel = 1
        for d in info["shape"]:
            numel *= d
        assert e - b == numel * size
        raw = bytearray(data[base + b : base + e])
        if numel == 0:
            t = torch.zeros(info["shape"], dtype=dt)
        else:
            t = torch.frombuffer(raw, dtype=dt).reshape(info["shape"])
        out[name] = (info["dtype"], t)
    return out, meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check-only", action="store_true", help="only verify tsgrad_written.safetensors")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    exp_path = os.path.join(OUT, "expected.json")
    sizes = {}
    if not args.check_only:
        torch.manual_seed(0)
        expected = {"torch_version": torch.__version__}

        sd = small_state_dict()
        sizes["small_state_dict.pth"] = save({"model": sd}, "small_state_dict.pth")
        expected["small_state_dict"] = collections.OrderedDict((k, describe(v)) for k, v in sd.items())

        torch.manual_seed(1)
        model = MiniConvNeXt()
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn_like(p) * 0.5)
        msd = model.state_dict()
        assert hasattr(msd, "_metadata")
        sizes["convnext_mini_official.pth"] = save({"model": msd}, "convnext_mini_official.pth")
        tsd = official_to_timm(msd, conv_mlp=True)
        sizes["convnext_mini_timm.pth"] = save({"state_dict": tsd}, "convnext_mini_timm.pth")
        x = torch.randn(1, 3, 32, 32)
        with torch.no_grad():
            logits = model(x)
        sizes["convnext_mini_io.pth"] = save({"input": x, "logits": logits}, "convnext_mini_io.pth")

        def summary(v):
            f = v.double()
            return {"shape": list(v.shape), "sum": f.sum().item(), "abs_sum": f.abs().sum().item(), "first": [enc(a) for a in f.reshape(-1)[:3].tolist()]}

        expected["convnext_mini_official"] = collections.OrderedDict((k, summary(v)) for k, v in msd.items())
        expected["convnext_mini_timm"] = collections.OrderedDict((k, summary(v)) for k, v in tsd.items())
        expected["convnext_mini_logits"] = [enc(a) for a in logits.reshape(-1).tolist()]

        dp = collections.OrderedDict()
        dp["module.head.weight"] = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        dp["module.head.bias"] = torch.tensor([0.5, -0.5])
        sizes["dp_prefixed.pth"] = save(dp, "dp_prefixed.pth")

        small_model = collections.OrderedDict([("head.weight", torch.tensor([[1.0, -1.0]])), ("head.bias", torch.tensor([0.25]))])
        ckpt = {
            "model": small_model,
            "optimizer": {"state": {0: {"step": 3, "exp_avg": torch.zeros(1, 2)}}, "param_groups": [{"lr": 0.004, "weight_decay": 0.05, "params": [0, 1]}]},
            "epoch": 3,
            "args": argparse.Namespace(model="convnext_tiny", lr=0.004, drop_path=0.1),
        }
        sizes["training_checkpoint.pth"] = save(ckpt, "training_checkpoint.pth")
        sizes["forbidden_global.pth"] = save({"model": {"w": torch.ones(2)}, "hook": os.system}, "forbidden_global.pth")
        sizes["int64_overflow.pth"] = save({"model": {"ids": torch.tensor([1, 2 ** 40, 3], dtype=torch.int64)}}, "int64_overflow.pth")
        sizes["legacy_format.pth"] = save({"w": torch.ones(2)}, "legacy_format.pth", _use_new_zipfile_serialization=False)

        g = torch.Generator().manual_seed(2)
        st = collections.OrderedDict()
        st["weight"] = ("F32", torch.randn(2, 3, generator=g))
        st["double"] = ("F64", torch.tensor([1.0 / 3.0, -2.5], dtype=torch.float64))
        st["ids"] = ("I32", torch.tensor([-5, 0, 7], dtype=torch.int32))
        st["flags"] = ("BOOL", torch.tensor([True, False, True, True]))
        st["half"] = ("F16", torch.tensor([0.5, -1.0, 65504.0], dtype=torch.float16))
        st["brain"] = ("BF16", torch.tensor([3.140625, -0.0078125], dtype=torch.bfloat16))
        st["long"] = ("I64", torch.tensor([-3, 2 ** 31 - 1, -(2 ** 31)], dtype=torch.int64))
        st["scalar"] = ("F32", torch.tensor(4.0))
        st["empty"] = ("F32", torch.zeros(0, 2))
        meta = {"format": "pt", "note": "written by hand in gen_pth_fixtures.py"}
        sizes["hand_written.safetensors"] = write_hand_safetensors(os.path.join(OUT, "hand_written.safetensors"), st, meta)
        expected["hand_written_safetensors"] = {
            "metadata": meta,
            "tensors": collections.OrderedDict((k, dict(describe(t), st_dtype=d)) for k, (d, t) in st.items()),
        }

        # What the TypeScript writer is given for tsgrad_written.safetensors (see the nn tests).
        g = torch.Generator().manual_seed(3)
        expected["writer_input"] = {
            "metadata": {"format": "pt", "writer": "tsgrad"},
            "tensors": collections.OrderedDict(
                [
                    ("z.weight", {"dtype": "float32", "shape": [3, 2], "values": torch.randn(3, 2, generator=g).tolist()}),
                    ("a.double", {"dtype": "float64", "shape": [2], "values": [0.1, -7.25]}),
                    ("m.ids", {"dtype": "int32", "shape": [2, 2], "values": [1, -2, 2147483647, -2147483648]}),
                    ("mask", {"dtype": "bool", "shape": [3], "values": [1, 0, 1]}),
                    ("scalar", {"dtype": "float32", "shape": [], "values": [0.5]}),
                    ("empty", {"dtype": "float32", "shape": [0], "values": []}),
                ]
            ),
        }
        for k, v in expected["writer_input"]["tensors"].items():
            if v["dtype"] == "float32":
                v["values"] = [x for x in torch.tensor(v["values"]).reshape(-1).tolist()]
        with open(exp_path, "w") as f:
            json.dump(expected, f, indent=1)
            f.write("\n")
        sizes["expected.json"] = os.path.getsize(exp_path)

    # Cross-check the TypeScript writer's output, when present.
    ts_path = os.path.join(OUT, "tsgrad_written.safetensors")
    if os.path.exists(ts_path):
        with open(exp_path) as f:
            want = json.load(f)["writer_input"]
        got, meta = read_safetensors_independently(ts_path)
        assert meta == want["metadata"], (meta, want["metadata"])
        assert list(sorted(got)) == list(sorted(want["tensors"])), (sorted(got), sorted(want["tensors"]))
        names = {"float32": "F32", "float64": "F64", "int32": "I32", "bool": "BOOL"}
        for name, w in want["tensors"].items():
            dt, t = got[name]
            assert dt == names[w["dtype"]], (name, dt)
            assert list(t.shape) == w["shape"], (name, list(t.shape))
            vals = t.reshape(-1).tolist()
            if w["dtype"] == "bool":
                vals = [1 if v else 0 for v in vals]
            if w["dtype"] == "float32":
                want_vals = torch.tensor(w["values"], dtype=torch.float32).tolist() if w["values"] else []
            else:
                want_vals = w["values"]
            assert vals == want_vals, (name, vals, want_vals)
        print("tsgrad_written.safetensors: read back independently in Python, %d tensors match" % len(got))
    else:
        print("note: tsgrad_written.safetensors not present; write it with the TypeScript writer and rerun with --check-only")

    total = 0
    for name in sorted(os.listdir(OUT)):
        s = os.path.getsize(os.path.join(OUT, name))
        total += s
        print("%-30s %7d bytes" % (name, s))
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
