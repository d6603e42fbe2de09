#!/usr/bin/env python3
"""A TCP pass-through in front of moto that counts KMS Decrypt requests.

    kms_count_proxy.py UPSTREAM_HOST:PORT COUNT_FILE   # prints the port it listens on

Every client connection is piped to the upstream unchanged, both ways. Requests whose bytes
name the API target `TrentService.Decrypt` (the X-Amz-Target header of a KMS Decrypt call)
are counted; the total is rewritten into COUNT_FILE after each one (the benchmark reads it
and may truncate it to reset). Standard library only.
"""
import socket
import sys
import threading

NEEDLE = b"TrentService.Decrypt"
lock = threading.Lock()
total = 0


def bump(n, path):
    global total
    with lock:
        try:
            with open(path) as f:
                total = int(f.read().strip() or 0)
        except (OSError, ValueError):
            total = 0
        total += n
        with open(path, "w") as f:
            f.write(str(total))


def upstream_to_client(up, client):
    try:
        while True:
            b = up.recv(65536)
            if not b:
                break
            client.sendall(b)
    except OSError:
        pass
    try:
        client.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def client_to_upstream(client, up, path):
    tail = b""
    try:
        while True:
            b = client.recv(65536)
            if not b:
                break
            tail += b
            n = tail.count(NEEDLE)
            if n:
                bump(n, path)
                tail = tail[tail.rfind(NEEDLE) + len(NEEDLE):]
            tail = tail[-(len(NEEDLE) - 1):]
            up.sendall(b)
    except OSError:
        pass
    try:
        up.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    path = sys.argv[2]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    print(srv.getsockname()[1], flush=True)
    while True:
        client, _ = srv.accept()
        try:
            up = socket.create_connection((host, int(port)))
        except OSError:
            client.close()
            continue
        threading.Thread(target=upstream_to_client, args=(up, client), daemon=True).start()
        threading.Thread(target=client_to_upstream, args=(client, up, path), daemon=True).start()


if __name__ == "__main__":
    main()
