"""Free loopback TCP ports for the processes of the local control plane and whatever the tests, demos
and benchmarks start next to it (operator, extender, Flux, Argo CD): :func:`free_ports` when one process
needs several, :func:`free_port` for one.
"""

from __future__ import annotations

import socket
from contextlib import ExitStack


def free_ports(count: int) -> tuple[int, ...]:
    """``count`` distinct loopback TCP ports that are free now.

    All sockets stay bound until every port is chosen: separate :func:`free_port` calls can return the
    same port twice (the first socket is closed before the second binds), and two listeners of one
    process on one port make the second fail at start.
    """
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return tuple(int(s.getsockname()[1]) for s in sockets)


def free_port() -> int:
    """One free loopback TCP port; use :func:`free_ports` when a process needs more than one."""
    return free_ports(1)[0]
