"""Ports handed to services: never the same one twice in a process, and only HTTP counts as ready."""

from __future__ import annotations

import socket
import threading

import pytest

from docflow_dev.processes import free_port, wait_ready


def test_free_port_never_hands_out_a_port_twice() -> None:
    # the kernel gives ports back once their sockets close: without memory, a few thousand
    # calls repeat some, and a stack told the same port twice fails to start
    ports = [free_port() for _ in range(3000)]
    assert len(set(ports)) == len(ports)


def test_a_port_that_answers_something_other_than_http_is_not_ready() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def banner() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                with conn:
                    conn.sendall(b"220 localhost SMTP ready\r\n")

        threading.Thread(target=banner, daemon=True).start()
        with pytest.raises(TimeoutError, match="not ready"):
            wait_ready(f"http://127.0.0.1:{port}/ready", timeout=1.5)
