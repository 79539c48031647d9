"""Reading a torch `.pth` written by someone else without running anything it holds.

A `.pth` is a zip whose `data.pkl` is a pickle, and unpickling calls whatever functions the pickle names: a
checkpoint from the internet can run a command. This reader unpickles with an explicit allow-list: tensors (read
straight from the zip's storage records), plain containers and numbers, `torch.device`, numpy scalars and dtypes.
Names of the libraries whose objects a RecBole checkpoint carries (its `Config`, its enums, the model class, a YAML
loader class) become inert `Opaque` records of their arguments and state: they are never imported, constructed or
called. Any other name is refused before anything is built. torch's own `weights_only` loader is not used because it
cannot read RecBole's `Config` as plain data; this is the same idea with a list fitted to these files.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recattn.errors import RecAttnError
from recattn.i18n import _

# the pickled names a tensor checkpoint legitimately holds, and what each becomes
_STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
    "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8, "BoolStorage": torch.bool,
}
# the module prefixes whose objects are kept as inert records (RecBole's config and enums, the model's class, the
# YAML loader class its config remembers); never imported
OPAQUE_PREFIXES = ("recbole.", "yaml.")


class Opaque:
    """A pickled object of a library recattn does not import: its name, its constructor arguments and its state,
    as plain data. Calling it (an enum's REDUCE) or building it (NEWOBJ + BUILD) only records."""

    name = "?"

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj.args, obj.state = args, None
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<{self.name}{self.args!r}>"

    @property
    def value(self) -> Any:
        """An enum's value (its first argument), or None."""
        return self.args[0] if self.args else None


def _rebuild_tensor(storage: torch.Tensor, offset: int, size, stride, requires_grad=False, hooks=None, metadata=None):
    """torch._utils._rebuild_tensor_v2's job on a storage read as a flat tensor: a view, copied out."""
    return storage.as_strided(tuple(size), tuple(stride), offset).clone()


def _numpy_scalar(dtype: np.dtype, data: bytes | None = None) -> Any:
    return np.frombuffer(data, dtype=dtype)[0].item() if data is not None else dtype.type(0).item()


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch", "device"): torch.device,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
}


class _Storage:
    def __init__(self, dtype: torch.dtype):
        self.dtype = dtype


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive: zipfile.ZipFile, prefix: str, where: str):
        super().__init__(file)
        self.archive, self.prefix, self.where = archive, prefix, where
        self.opaque: dict[str, type] = {}

    def find_class(self, module: str, name: str):
        allowed = _ALLOWED.get((module, name))
        if allowed is not None:
            return allowed
        if module == "torch" and name in _STORAGE_DTYPES:
            return _Storage(_STORAGE_DTYPES[name])
        full = f"{module}.{name}"
        if module.startswith(OPAQUE_PREFIXES) or module in ("recbole", "yaml"):
            if full not in self.opaque:
                self.opaque[full] = type(name, (Opaque,), {"name": full})
            return self.opaque[full]
        raise RecAttnError(_("{file} asks to run {name} while loading, which a model checkpoint never needs: it was "
                             "refused and nothing in the file was run. Only load files you trust, and export the "
                             "model's state_dict with torch.save if it is your own.").format(
            file=self.where, name=full))

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _Storage)):
            raise RecAttnError(_("{file} holds a storage record recattn cannot read ({type})").format(
                file=self.where, type=type(pid).__name__))
        _record, storage, key, _location, numel = pid
        try:
            raw = self.archive.read(f"{self.prefix}data/{key}")
        except KeyError:
            raise RecAttnError(_("{file} is damaged: tensor data {key} is missing from it").format(
                file=self.where, key=key)) from None
        flat = torch.frombuffer(bytearray(raw), dtype=storage.dtype) if raw else torch.empty(0, dtype=storage.dtype)
        if flat.numel() < numel:
            raise RecAttnError(_("{file} is damaged: tensor data {key} is shorter than its header says").format(
                file=self.where, key=key))
        return flat


def read(path: str | Path) -> Any:
    """The object a torch.save'd file holds, read with the allow-list above (RecAttnError for anything else: a
    legacy or non-torch file, a damaged one, or one that names a function to run)."""
    path = Path(path)
    where = path.name
    if not zipfile.is_zipfile(path):
        raise RecAttnError(_("{file} is not a torch checkpoint (torch.save writes a zip file since torch 1.6): save it "
                             "again with a recent torch, or check that you picked the .pth file").format(file=where))
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
            if len(pickles) != 1:
                raise RecAttnError(_("{file} is a zip file but not a torch checkpoint (no single data.pkl in "
                                     "it)").format(file=where))
            prefix = pickles[0][: -len("data.pkl")]
            data = archive.read(pickles[0])
            return _Unpickler(io.BytesIO(data), archive, prefix, where).load()
    except RecAttnError:
        raise
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, RuntimeError) as e:
        raise RecAttnError(_("{file} cannot be read as a torch checkpoint ({error}); the file may be damaged or cut "
                             "short").format(file=where, error=f"{type(e).__name__}: {e}")) from e
