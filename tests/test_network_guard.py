import socket

import pytest

from tests.conftest import NetworkAccessError


def test_connecting_outside_loopback_fails():
    with pytest.raises(NetworkAccessError):
        socket.create_connection(("203.0.113.7", 443), timeout=1)


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=1)
    client.close()
    server.close()
