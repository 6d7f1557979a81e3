"""Which worker processes run, and which queues each serves, in each memory profile.

Standard: a worker for the scan queue alone (a new file never waits behind analysis) and one
for the plugin stages. Low memory (``memory = low``, or ``auto`` on a 1-2 GB machine): one
worker for every queue, so one RQ parent fewer; the analysis options load the backend per job
and bound the span analysed (``plugins/builtin/analysis_options.py``).
"""

from __future__ import annotations

from soniquebay.config import Settings
from soniquebay.names import QUEUES, SCAN, STAGE_QUEUES, expand_queues


def profile_queues(settings: Settings, queues: list[str]) -> list[str]:
    """The queues a worker started for ``queues`` serves. In the low-memory profile the scan
    worker serves every queue, the scan queue first (RQ takes the first non-empty queue each
    time), and no other worker process is run: one parent fewer, about 40 MB."""
    queues = expand_queues(queues)
    if settings.low_memory and queues == [SCAN]:
        return list(QUEUES)
    return queues


def runs_in_profile(settings: Settings, queues: list[str]) -> tuple[bool, str]:
    """Whether a worker for ``queues`` is started in this memory profile, and why not: the
    units' ``ExecCondition=`` (``soniquebay worker --check``) and ``serve`` ask."""
    if settings.low_memory and set(expand_queues(queues)) <= set(STAGE_QUEUES):
        return False, (
            "low-memory profile: the scan worker serves the stage queues too, so this worker"
            " is not started (set memory = standard in the configuration to run it)"
        )
    return True, "started"
