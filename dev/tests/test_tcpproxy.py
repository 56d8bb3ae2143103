"""The outage proxy really cuts and restores a connection path."""

from __future__ import annotations

import socket

from docflow_dev.devstack import port_open
from docflow_dev.testing.tcpproxy import TcpProxy


def test_proxy_forwards_then_refuses_then_forwards_again() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        proxy = TcpProxy("127.0.0.1", server.getsockname()[1]).start()
        try:
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=2) as client:
                conn, _ = server.accept()
                client.sendall(b"ping")
                assert conn.recv(4) == b"ping"
                conn.close()
            proxy.down()
            assert not port_open("127.0.0.1", proxy.port)
            proxy.up()
            assert port_open("127.0.0.1", proxy.port)
        finally:
            proxy.stop()
