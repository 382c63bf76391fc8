"""Free loopback ports for the processes a local cluster starts."""

from __future__ import annotations

import socket

from augur.devcluster.ports import free_port, free_ports


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(20)
    assert len(ports) == 20
    assert len(set(ports)) == 20
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))


def test_free_port_is_a_port() -> None:
    port = free_port()
    assert 0 < port < 65536
