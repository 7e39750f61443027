"""How fits are stored: netCDF groups with quantised draws, canonical tables and input digests.

Draws are stored as 16-bit integers with a scale and an offset per variable (netCDF attributes):
the steps are 1/65,000 of the variable's range over all draws (1e-4 on the log-share scale of
the latent support, 1e-5 of a vote share), far below any reported figure and below the Monte
Carlo error of 8,000 draws, at a quarter of the size of float64. A fit is *canonical* when it
holds exactly what its file holds: every draw on that grid, labels as plain strings, tables in
the form they are read back in. A fresh fit is made canonical before anything is computed from
it, so a fit loaded from disk simulates bit for bit like the fresh one (tests/test_paths.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .problems import InputError, Problem

#: netCDF encoding of stored draws (int16 grid values), compressed.
DRAW_ENCODING = {"zlib": True, "complevel": 4, "shuffle": True}
#: Encoding of other numeric arrays (model data, tables): compressed, exact.
EXACT_ENCODING = {"zlib": True, "complevel": 4}
#: Grid steps per variable range (int16 holds -32,768 .. 32,767).
_STEPS = 65_000


def _grid(values: np.ndarray) -> tuple[float, float]:
    """Offset and scale of the int16 grid of a float array."""
    low, high = float(np.min(values)), float(np.max(values))
    offset = (low + high) / 2
    scale = (high - low) / _STEPS if high > low else 1.0
    return offset, scale


def _quantise(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    offset, scale = _grid(values)
    return np.rint((values - offset) / scale).astype(np.int16), offset, scale


def _dequantise(codes: np.ndarray, offset: float, scale: float) -> np.ndarray:
    return codes.astype(np.float64) * scale + offset


def _plain_strings(values: np.ndarray) -> np.ndarray:
    """Labels as an object array of Python str (what netCDF gives back)."""
    return np.array([str(v) for v in np.asarray(values).ravel()], dtype=object).reshape(
        np.shape(values))


def canonical_draws(ds: xr.Dataset) -> xr.Dataset:
    """Draws at stored precision: float variables on their int16 grid (held as float64),
    string coordinates as Python str."""
    out = ds.copy()
    for name in list(out.data_vars):
        values = out[name].values
        if np.issubdtype(values.dtype, np.floating) and np.all(np.isfinite(values)):
            codes, offset, scale = _quantise(values.astype(np.float64))
            out[name] = out[name].copy(data=_dequantise(codes, offset, scale))
            # The grid travels with the values: the file stores these codes and this grid.
            out[name].attrs.update({"grid_offset": offset, "grid_scale": scale})
    return canonical_coords(out)


def _encode_draws(ds: xr.Dataset) -> xr.Dataset:
    """Canonical draws (:func:`canonical_draws`) as their int16 codes; the grid is kept in the
    ``grid_offset``/``grid_scale`` attributes (draws without a grid are stored as they are)."""
    out = ds.copy()
    for name in list(out.data_vars):
        values = out[name].values
        attrs = out[name].attrs
        if "grid_scale" in attrs:
            offset, scale = float(attrs["grid_offset"]), float(attrs["grid_scale"])
            codes = np.rint((values - offset) / scale).astype(np.int16)
            out[name] = out[name].copy(data=codes)
            out[name].attrs.update({"grid_offset": offset, "grid_scale": scale})
    return out


def _decode_draws(ds: xr.Dataset) -> xr.Dataset:
    out = ds.copy()
    for name in list(out.data_vars):
        attrs = out[name].attrs
        if "grid_scale" in attrs:
            offset, scale = float(attrs["grid_offset"]), float(attrs["grid_scale"])
            values = _dequantise(out[name].values, offset, scale)
            out[name] = xr.DataArray(values, dims=out[name].dims, coords=out[name].coords,
                                     attrs={"grid_offset": offset, "grid_scale": scale})
    return out


def canonical_coords(ds: xr.Dataset) -> xr.Dataset:
    """String coordinates as object arrays of Python str; datetimes as datetime64[ns]."""
    updates = {}
    for name, coord in ds.coords.items():
        values = coord.values
        if values.dtype.kind in "USO":
            updates[name] = (coord.dims, _plain_strings(values))
        elif values.dtype.kind == "M":
            updates[name] = (coord.dims, values.astype("datetime64[ns]"))
    return ds.assign_coords(updates) if updates else ds


def table_to_dataset(frame: pd.DataFrame, index: str) -> xr.Dataset:
    """A table as a Dataset along ``index`` with netCDF-safe columns.

    Text columns become str with missing values as ``""``; datetimes datetime64[ns] (NaT kept);
    booleans bool; other numbers float64 or int64.
    """
    columns = {}
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_bool_dtype(series):
            values = series.to_numpy(dtype=bool)
        elif pd.api.types.is_datetime64_any_dtype(series):
            values = pd.to_datetime(series).to_numpy(dtype="datetime64[ns]")
        elif pd.api.types.is_integer_dtype(series):
            values = series.to_numpy(dtype=np.int64)
        elif pd.api.types.is_float_dtype(series):
            values = series.to_numpy(dtype=np.float64)
        else:
            values = np.array(["" if pd.isna(v) else str(v) for v in series], dtype=object)
        columns[str(col)] = ((index,), values)
    return xr.Dataset(columns, coords={index: np.arange(len(frame))},
                      attrs={"columns": json.dumps([str(c) for c in frame.columns])})


def table_from_dataset(ds: xr.Dataset, index: str) -> pd.DataFrame:
    """Inverse of :func:`table_to_dataset` (column order restored)."""
    order = json.loads(ds.attrs["columns"]) if "columns" in ds.attrs else list(ds.data_vars)
    data = {}
    for col in order:
        values = ds[col].values
        if values.dtype.kind in "USO":
            values = np.array([str(v) for v in values], dtype=object)
        data[col] = values
    return pd.DataFrame(data, columns=order)


def canonical_table(frame: pd.DataFrame, index: str = "row") -> pd.DataFrame:
    """A table as it reads back from storage."""
    return table_from_dataset(table_to_dataset(frame, index), index)


def digest(*parts: object) -> str:
    """SHA-256 (hex) of JSON-able parts and numpy arrays, independent of dict order."""
    h = hashlib.sha256()
    for part in parts:
        _feed(h, part)
    return h.hexdigest()


def _feed(h, part: object) -> None:
    if isinstance(part, np.ndarray):
        arr = np.ascontiguousarray(part)
        if arr.dtype.kind in "USO":
            h.update(json.dumps([str(v) for v in arr.ravel()]).encode())
        else:
            h.update(str(arr.dtype).encode())
            h.update(arr.tobytes())
        h.update(str(arr.shape).encode())
    elif isinstance(part, pd.DataFrame):
        h.update(part.to_csv(index=False, lineterminator="\n").encode())
    elif isinstance(part, dict):
        for key in sorted(part, key=str):
            h.update(f"<{key}>".encode())
            _feed(h, part[key])
    elif isinstance(part, (list, tuple)):
        h.update(b"[")
        for item in part:
            _feed(h, item)
        h.update(b"]")
    else:
        h.update(json.dumps(part, sort_keys=True, default=str).encode())


def write_groups(path: Path, groups: dict[str, xr.Dataset], attrs: dict[str, str], *,
                 draws: tuple[str, ...] = ("posterior",)) -> Path:
    """Write datasets as the groups of one netCDF file (atomically); the float variables of
    the ``draws`` groups are stored on their int16 grid (canonical draws lose nothing)."""
    from .files import atomic_write_file

    groups = {name: _encode_draws(ds) if name in draws else ds for name, ds in groups.items()}
    tree = xr.DataTree.from_dict({f"/{name}": ds for name, ds in groups.items()})
    tree.attrs.update(attrs)
    encoding = {}
    for name, ds in groups.items():
        enc = {}
        for var in ds.data_vars:
            kind = ds[var].dtype.kind
            if name in draws and kind in "fi":
                enc[var] = dict(DRAW_ENCODING)
            elif kind in "fiub":
                enc[var] = dict(EXACT_ENCODING)
        encoding[f"/{name}"] = enc
    return atomic_write_file(path, lambda tmp: tree.to_netcdf(tmp, engine="netcdf4",
                                                              encoding=encoding))


def read_groups(path: str | Path, *, kind: str) -> tuple[dict[str, xr.Dataset], dict]:
    """Read a file written by :func:`write_groups`; ``kind`` must match its ``kind`` attribute.

    Raises
    ------
    InputError
        Missing or unreadable file, not netCDF, or a file of another kind.
    """
    path = Path(path)
    shown = str(path)
    if not path.is_file():
        raise InputError([Problem(shown, 0, "", "fit file not found")])
    try:
        with xr.open_datatree(path, engine="netcdf4") as tree:
            tree = tree.load()
    except (OSError, ValueError, KeyError) as exc:
        raise InputError([Problem(shown, 0, "", f"not a fit file (netCDF) of this toolkit: "
                                  f"{type(exc).__name__}")]) from None
    found = tree.attrs.get("kind")
    if found != kind:
        what = f"a {found!r} file" if found else "not a fit file of this toolkit"
        raise InputError([Problem(shown, 0, "", f"{what}: expected a {kind!r} fit")])
    groups = {name: canonical_coords(_decode_draws(child.to_dataset()))
              for name, child in tree.children.items()}
    return groups, dict(tree.attrs)


def read_attrs(path: str | Path) -> dict:
    """The attributes of a file written by :func:`write_groups`, without reading its arrays.

    Raises
    ------
    InputError
        Not a readable netCDF file.
    """
    try:
        with xr.open_datatree(path, engine="netcdf4") as tree:
            return dict(tree.attrs)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError([Problem(str(path), 0, "", f"not a fit file (netCDF) of this "
                                  f"toolkit: {type(exc).__name__}")]) from None
