"""Starter input files (`risk-engine samples DIR`): one of each kind the engine reads, to edit.

An engine installed from a wheel has its sample manifest inside the installed package, where
no one looks, and the other inputs (a column mapping, a training config, a watch list, risk
profiles, a capacity file, an outcomes file) only described in the docs. The files ship as
package data (``risk_engine/samples``): the YAML ones commented, the CSV ones explained in the
folder's README.txt. The tests read each with the loader that reads it in use, so a starter
cannot drift from what the engine accepts.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from risk_engine.errors import OutputUnwritable

__all__ = ["SAMPLE_FILES", "StarterFile", "sample_bytes", "write_samples"]

# The files written, in the order told, with what each is for.
SAMPLE_FILES: tuple[tuple[str, str], ...] = (
    ("README.txt", "what each file is, its columns and their defaults"),
    ("mapping.yaml", "column mapping of a manifest export (--mapping)"),
    ("train_config.yaml", "training settings, every default (train and retrain --config)"),
    ("profiles.yaml", "risk profiles (screen and serve --profiles)"),
    ("watchlist.csv", "watch list (screen and serve --watchlist)"),
    ("capacity.csv", "inspection slots a day by port (screen --capacity-file)"),
    ("outcomes_sample.csv", "inspection outcomes (train --outcomes, outcomes --record)"),
    ("shipments_sample.csv", "40 manifest lines, some with mistakes on purpose (validate)"),
)


@dataclass(frozen=True)
class StarterFile:
    path: Path
    what: str


def sample_bytes(name: str) -> bytes:
    """The content of a starter file as shipped."""
    return resources.files("risk_engine").joinpath("samples", name).read_bytes()


def write_samples(folder: Path) -> list[StarterFile]:
    """Write every starter file into ``folder`` (made when missing) and return them.

    A file of the same name already there is never overwritten: every name is checked first
    and, when one is taken, `OutputUnwritable` (exit 2) names them all and nothing is written.
    A folder that cannot be made or written in is named the same way; the files written
    before the failure are removed, so a half set is not left to be taken for a whole one."""
    folder = Path(folder)
    targets = [(folder / name, what) for name, what in SAMPLE_FILES]
    if folder.exists() and not folder.is_dir():
        raise OutputUnwritable(str(folder), "it is a file, not a folder")
    taken = [str(path) for path, _ in targets if path.exists() or path.is_symlink()]
    if taken:
        raise OutputUnwritable(
            ", ".join(taken),
            "already there: `samples` never overwrites a file, and wrote none "
            "(name a new folder, or move these away)",
        )
    contents = [sample_bytes(name) for name, _ in SAMPLE_FILES]  # all read before any write
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputUnwritable(
            str(folder), f"the folder cannot be made ({_problem(error)})"
        ) from error
    written: list[StarterFile] = []
    try:
        for (path, what), content in zip(targets, contents, strict=True):
            # "x": a file that appeared since the check is not overwritten either
            with path.open("xb") as out:
                written.append(StarterFile(path, what))
                out.write(content)
    except OSError as error:
        for done in written:
            done.path.unlink(missing_ok=True)
        if made:
            with contextlib.suppress(OSError):
                folder.rmdir()
        failed = Path(error.filename) if error.filename else folder
        if isinstance(error, FileExistsError):
            problem = "already there: `samples` never overwrites a file, and wrote none"
        else:
            problem = f"{_problem(error)} (in the folder {folder}; nothing was written)"
        raise OutputUnwritable(str(failed), problem) from error
    return written


def _problem(error: OSError) -> str:
    return error.strerror or str(error)
