"""Make RecBole 1.2.1 run correctly on numpy 2, pandas 3 and torch >= 2.6.

RecBole 1.2.1 (February 2025) predates these releases. :func:`apply` patches the places
where it breaks; importing :mod:`recbole_ssctl` calls it once. Each patch is small and
replaces one RecBole method or module attribute; the reason sits next to it:

* numpy 2 removed ``np.float_``, ``np.complex_`` and ``np.unicode_``, which
  ``Config.compatibility_settings`` reads, so every ``Config(...)`` raised.
* pandas 3 copy-on-write turns ``df[col].fillna(..., inplace=True)`` into a no-op. RecBole
  relies on it for missing float values (left as NaN, silently) and for empty sequence
  cells (a crash while loading a ``token_seq`` column).
* pandas 3 ``Series.agg(len)`` returns the length of the series instead of one length per
  row, which breaks the remapping of ``token_seq`` fields and the normalisation of
  ``float_seq`` fields.
* torch 2.6 made ``torch.load(weights_only=True)`` the default, which rejects every
  RecBole checkpoint (they hold the ``Config`` object) at best-model reload and resume.
* ``torch.cuda.amp.GradScaler`` is deprecated and warns on every epoch.
* Multi-process training is hard-wired to NCCL and CUDA devices. The patched device
  set-up and trainer base use gloo on CPU (or when ``dist_backend: gloo`` is set).

``recbole.quick_start`` imports ray, which fails on numpy 2 and setuptools >= 81; nothing
here imports it.
"""

import contextlib
import functools
import os
import warnings

import numpy as np
import pandas as pd
import torch
from torch.nn.parallel import DistributedDataParallel

from recbole.config import configurator
from recbole.data.dataset import dataset as recbole_dataset
from recbole.trainer import trainer as recbole_trainer
from recbole.utils import FeatureType

_APPLIED = False

# Aliases RecBole's Config sets on numpy, with the type each stood for before numpy 1.24.
_LEGACY_NUMPY_ALIASES = {
    "bool": np.bool_,
    "int": np.int_,
    "float": np.float64,
    "complex": np.complex128,
    "object": np.object_,
    "str": np.str_,
    "long": np.int_,
    "unicode": np.str_,
}


def _compatibility_settings(self):
    """Set the removed numpy aliases that RecBole's model code still uses (``np.long`` etc.)."""
    for name, value in _LEGACY_NUMPY_ALIASES.items():
        if name not in np.__dict__:
            setattr(np, name, value)


def _row_lengths(series):
    """Return the length of each row of a sequence column as an int64 array."""
    return np.fromiter((len(row) for row in series), dtype=np.int64, count=len(series))


def _concatenate_rows(series):
    """Concatenate the arrays of a sequence column into one array."""
    rows = list(series)
    if not rows:
        return np.array([])
    return np.concatenate(rows)


def _split_rows(values, lengths):
    """Split ``values`` back into rows of the given lengths (inverse of concatenation)."""
    return np.split(values, np.cumsum(lengths)[:-1])


def _concat_remaped_tokens(self, remap_list):
    """Concatenate the tokens of all fields in one remapping space (see RecBole's docstring)."""
    tokens = []
    for feat, field, ftype in remap_list:
        if ftype == FeatureType.TOKEN:
            tokens.append(np.asarray(feat[field].values, dtype=object))
        elif ftype == FeatureType.TOKEN_SEQ:
            tokens.append(_concatenate_rows(feat[field]).astype(object))
    split_point = np.cumsum(list(map(len, tokens)))[:-1]
    return np.concatenate(tokens), split_point


def _remap(self, remap_list):
    """Remap tokens to ids 1..N (0 is padding) with one id space per alias group."""
    if len(remap_list) == 0:
        return
    tokens, split_point = self._concat_remaped_tokens(remap_list)
    new_ids_list, mapping = pd.factorize(tokens)
    new_ids_list = np.split(new_ids_list + 1, split_point)
    mapping = np.array(["[PAD]"] + list(mapping))
    token_id = {token: index for index, token in enumerate(mapping)}

    for (feat, field, ftype), new_ids in zip(remap_list, new_ids_list):
        if field not in self.field2id_token:
            self.field2id_token[field] = mapping
            self.field2token_id[field] = token_id
        if ftype == FeatureType.TOKEN:
            feat[field] = new_ids
        elif ftype == FeatureType.TOKEN_SEQ:
            feat[field] = _split_rows(new_ids, _row_lengths(feat[field]))


def _fill_nan(self):
    """Fill missing values: token ids with 0 (padding), floats with the column mean.

    Assigns the filled column back instead of RecBole's chained ``inplace=True`` call,
    which pandas 3 ignores.
    """
    for feat_name in self.feat_name_list:
        feat = getattr(self, feat_name)
        for field in feat:
            ftype = self.field2type[field]
            if ftype == FeatureType.TOKEN:
                feat[field] = feat[field].fillna(value=0)
            elif ftype == FeatureType.FLOAT:
                feat[field] = feat[field].fillna(value=feat[field].mean())
            else:
                empty_dtype = np.int64 if ftype == FeatureType.TOKEN_SEQ else np.float64
                feat[field] = [
                    np.array([], dtype=empty_dtype) if isinstance(row, float) else row
                    for row in feat[field]
                ]


class _SequenceAwareSeries:
    """Scope in which ``Series.agg(len)`` returns one length per row again.

    RecBole's ``_normalize`` and ``_discretization`` call ``feat[field].agg(len)`` on
    ``float_seq`` columns and expect per-row lengths, as pandas < 3 returned.
    """

    def __enter__(self):
        self._original_agg = pd.Series.agg

        def agg(series, func=None, *args, **kwargs):
            if func is len:
                return pd.Series(_row_lengths(series), index=series.index)
            return self._original_agg(series, func, *args, **kwargs)

        pd.Series.agg = agg
        return self

    def __exit__(self, *exc_info):
        pd.Series.agg = self._original_agg
        return False


def _with_sequence_aware_series(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with _SequenceAwareSeries():
            return method(self, *args, **kwargs)

    return wrapper


class _EmptySequenceCells:
    """Scope in which ``pd.read_csv`` returns empty sequence cells as ``""``, not NaN.

    RecBole's ``_load_feat`` fills them with a chained ``fillna(inplace=True)`` that pandas
    3 ignores, and then calls ``str.split`` on the NaN. Columns are recognised by their
    atomic-file header suffix (``:token_seq`` or ``:float_seq``).
    """

    def __enter__(self):
        self._original_read_csv = pd.read_csv
        original_read_csv = self._original_read_csv

        def read_csv(*args, **kwargs):
            frame = original_read_csv(*args, **kwargs)
            for column in frame.columns:
                if str(column).endswith((":token_seq", ":float_seq")):
                    frame[column] = frame[column].fillna("")
            return frame

        pd.read_csv = read_csv
        return self

    def __exit__(self, *exc_info):
        pd.read_csv = self._original_read_csv
        return False


def _with_empty_sequence_cells(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with _EmptySequenceCells(), warnings.catch_warnings():
            # The no-op chained fillna that this scope makes harmless still warns.
            warnings.simplefilter("ignore", pd.errors.ChainedAssignmentError)
            return method(self, *args, **kwargs)

    return wrapper


@contextlib.contextmanager
def trusted_checkpoint_loading():
    """Let ``torch.load`` unpickle RecBole checkpoints inside this scope.

    RecBole stores its ``Config`` object in every checkpoint, which torch >= 2.6 rejects
    under its ``weights_only=True`` default. The files are ones this process's trainer
    wrote (``checkpoint_dir``), so loading them in full is what RecBole intended.
    """
    original_load = torch.load

    def load(*args, **kwargs):
        kwargs.setdefault("weights_only", False)
        return original_load(*args, **kwargs)

    torch.load = load
    try:
        yield
    finally:
        torch.load = original_load


def _with_trusted_checkpoint_loading(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with trusted_checkpoint_loading():
            return method(self, *args, **kwargs)

    return wrapper


class _AmpShim:
    """Stand-in for ``torch.cuda.amp`` inside RecBole's trainer module.

    ``GradScaler`` maps to the non-deprecated ``torch.amp.GradScaler("cuda", ...)``.
    """

    @staticmethod
    def GradScaler(*args, **kwargs):
        return torch.amp.GradScaler("cuda", *args, **kwargs)

    @staticmethod
    def autocast(*args, **kwargs):
        return torch.autocast("cuda", *args, **kwargs)


def _init_device(self):
    """RecBole's device set-up, with the gloo backend for multi-process runs on CPU.

    Single-process runs are unchanged. A multi-process run (``local_rank`` set) uses
    ``dist_backend`` when given, else NCCL when CUDA is available and gloo otherwise.
    """
    settings = self.final_config_dict
    gpu_id = settings["gpu_id"]
    if isinstance(gpu_id, tuple):
        gpu_id = ",".join(map(str, gpu_id))
    settings["gpu_id"] = gpu_id = str(gpu_id)
    os.environ["CUDA_VISIBLE_DEVICES"] = gpu_id
    use_cuda = len(gpu_id) > 0 and torch.cuda.is_available()

    if "local_rank" not in settings:
        settings["single_spec"] = True
        settings["local_rank"] = 0
        settings["device"] = torch.device("cuda") if use_cuda else torch.device("cpu")
        return

    backend = settings.get("dist_backend") or ("nccl" if use_cuda else "gloo")
    if backend not in ("nccl", "gloo"):
        raise ValueError(f"dist_backend='{backend}' is invalid; allowed values: ['nccl', 'gloo'].")
    if backend == "nccl" and len(gpu_id.split(",")) < settings["nproc"]:
        raise ValueError(
            f"nproc={settings['nproc']} processes need as many GPUs, but gpu_id='{gpu_id}' "
            f"lists fewer. List more GPUs or use dist_backend: gloo."
        )
    torch.distributed.init_process_group(
        backend=backend,
        rank=settings["local_rank"] + settings["offset"],
        world_size=settings["world_size"],
        init_method=f"tcp://{settings['ip']}:{settings['port']}",
    )
    settings["single_spec"] = False
    settings["dist_backend"] = backend
    if backend == "nccl":
        settings["device"] = torch.device("cuda", settings["local_rank"])
        torch.cuda.set_device(settings["local_rank"])
    else:
        settings["device"] = torch.device("cpu")
    if settings["local_rank"] != 0:
        settings["state"] = "error"
        settings["show_progress"] = False
        settings["verbose"] = False


def _abstract_trainer_init(self, config, model):
    """RecBole's trainer base, wrapping the model in DDP for CPU processes too.

    ``device_ids`` and synchronised batch normalisation only apply to CUDA models.
    """
    self.config = config
    self.model = model
    if not config["single_spec"]:
        if config["device"].type == "cuda":
            self.model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
            self.distributed_model = DistributedDataParallel(
                self.model, device_ids=[config["local_rank"]]
            )
        else:
            self.distributed_model = DistributedDataParallel(self.model)


# (owner, attribute name) -> the value before patching, so tests can show each trap.
ORIGINALS = {}


def _patch(owner, name, value):
    ORIGINALS[(owner, name)] = getattr(owner, name)
    setattr(owner, name, value)


def apply():
    """Apply every patch once; later calls do nothing."""
    global _APPLIED
    if _APPLIED:
        return
    _APPLIED = True

    _patch(configurator.Config, "compatibility_settings", _compatibility_settings)
    _patch(configurator.Config, "_init_device", _init_device)
    _patch(recbole_trainer.AbstractTrainer, "__init__", _abstract_trainer_init)

    dataset_class = recbole_dataset.Dataset
    _patch(dataset_class, "_concat_remaped_tokens", _concat_remaped_tokens)
    _patch(dataset_class, "_remap", _remap)
    _patch(dataset_class, "_fill_nan", _fill_nan)
    _patch(dataset_class, "_load_feat", _with_empty_sequence_cells(dataset_class._load_feat))
    _patch(dataset_class, "_normalize", _with_sequence_aware_series(dataset_class._normalize))
    _patch(
        dataset_class,
        "_discretization",
        _with_sequence_aware_series(dataset_class._discretization),
    )

    trainer_class = recbole_trainer.Trainer
    _patch(trainer_class, "evaluate", _with_trusted_checkpoint_loading(trainer_class.evaluate))
    _patch(
        trainer_class,
        "resume_checkpoint",
        _with_trusted_checkpoint_loading(trainer_class.resume_checkpoint),
    )
    _patch(recbole_trainer, "amp", _AmpShim)
    _silence_recbole_internal_warnings()


def _silence_recbole_internal_warnings():
    """Hide warnings that RecBole's own code triggers on every run and users cannot act on.

    Only warnings raised from ``recbole.*`` modules are filtered: pandas' deprecation of
    ``inplace=True`` and torch's note on converting read-only numpy arrays, which pandas 3
    returns under copy-on-write and which RecBole copies into new tensors anyway.
    """
    pandas_deprecation = getattr(pd.errors, "Pandas4Warning", None)
    if pandas_deprecation is not None:
        warnings.filterwarnings("ignore", category=pandas_deprecation, module=r"recbole\.")
    warnings.filterwarnings(
        "ignore", message="The given NumPy array is not writable", module=r"recbole\."
    )
