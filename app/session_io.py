"""What the window writes to a session file (core.epochlab), taken whole in the GUI thread so
that any thread may write it while the session goes on.

A :class:`SessionSnapshot` is taken at one moment, when the trainer process's state arrives
(``stateReady``: every epoch the state includes has arrived before it, none after): the
experiment, a copy of the session (:func:`snapshot_session`: its records and markers
copied, its checkpoints shared, since trainer states never change), the state, the
window's view state, and the network with the state's weights for the file's model part.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.backend import get_backend
from core.epochlab import SessionFile, save_session
from core.network import Network
from core.run import Session
from core.trainer_state import TrainerState


def snapshot_session(session: Session) -> Session:
    """A copy of ``session`` that later epochs, markers and renames leave as it is; its
    checkpoints' trainer states are the same objects (they are never changed)."""
    shared = {id(state): state for run in session.runs for _, state in run.checkpoints.items()}
    return copy.deepcopy(session, shared)


def network_with(template: Network, state: TrainerState) -> Network:
    """A host (NumPy) network like ``template`` (spec, seed, input standardization) holding
    ``state``'s parameters (P,)."""
    network = Network(template.spec(), get_backend("numpy", np.dtype(state.params.dtype).name), seed=template.seed)
    network.params[...] = state.params
    network.preprocess = template.preprocess
    return network


@dataclass(frozen=True, eq=False)
class SessionSnapshot:
    """Everything one save writes: ``file`` (experiment, session copy, state, window), the
    ``network`` with the state's weights, and the folder the experiment's relative data paths
    start from now."""

    file: SessionFile
    network: Network
    data_folder: Path

    def write(self, path: str | os.PathLike) -> None:
        """Write the session file ``path`` atomically (FileFormatError, OSError on failure)."""
        save_session(path, self.file, self.network, self.data_folder)
