#!/usr/bin/python3
"""`glassbox serve` as a process, under the faults a deployed server meets. Each check also proves the
server kept answering everyone else:

  answers     8 concurrent clients get, for the same photograph, method and class, the attributions
              `glassbox explain --save-tensor` computes (read back with Debian's torch).
  idle        1,000 connections that never send a byte.
  slow        20 clients sending their request a byte a second.
  disconnect  clients that close mid-body, or right after sending, before their answer.
  soak        load for GLASSBOX_SOAK_SECONDS (default 60; 600 for the ten-minute soak): the server's
              resident memory after it stays within bounds of what it was after warm-up.
  sigterm     SIGTERM under load: every request that got an answer got a whole one (200, or 503 once
              draining), the process exits 0.

usage: test_faults.py GLASSBOX_BINARY OUT_DIR
"""
import base64
import http.client
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

import torch

GLASSBOX, OUT = sys.argv[1], sys.argv[2]
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(SOURCE, "data/models/face-expression.pt")
PHOTO = os.path.join(SOURCE, "data/faces/astronaut.png")
SOAK = float(os.environ.get("GLASSBOX_SOAK_SECONDS", "60"))


def start_server(*extra):
    server = subprocess.Popen([GLASSBOX, "serve", "--model", MODEL, "--name", "faces", "--port", "0", *extra],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in server.stdout:
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if m:
            threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
            return server, int(m.group(1))
    raise AssertionError("the server did not say where it listens")


def request(port, method, path, body=None, timeout=120):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers={"Content-Type": "application/json", "Connection": "close"})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


PHOTO_B64 = base64.b64encode(open(PHOTO, "rb").read()).decode()


def explain_body(method, target):
    return json.dumps({"instances": [{"b64": PHOTO_B64}], "parameters": {"method": method, "target": target, "return": ["attribution"]}})


def attribution(answer):
    t = answer["explanations"][0]["targets"][0]["attribution"]
    return torch.frombuffer(bytearray(base64.b64decode(t["b64"])), dtype=torch.float32).reshape(t["shape"])


def alive(port):
    status, body = request(port, "POST", "/v1/models/faces:predict", json.dumps({"instances": [{"b64": PHOTO_B64}]}), timeout=30)
    assert status == 200, (status, body[:200])


def check_answers(port):
    asks = [(m, t) for m in ("saliency", "gradcam", "ig", "smoothgrad") for t in (1, 6)]
    expected = {}
    for method, target in asks:
        out = os.path.join(OUT, f"cli-{method}-{target}.pt")
        subprocess.run([GLASSBOX, "explain", "--torchscript", MODEL, "--image", PHOTO, "--method", method, "--target", str(target),
                        "--out", os.path.join(OUT, f"cli-{method}-{target}.png"), "--save-tensor", out],
                       check=True, stdout=subprocess.DEVNULL)
        expected[(method, target)] = torch.load(out)[0]
    results, threads = {}, []

    def client(i):
        method, target = asks[i]
        status, body = request(port, "POST", "/v1/models/faces:explain", explain_body(method, target))
        results[i] = (status, body)

    for i in range(len(asks)):
        threads.append(threading.Thread(target=client, args=(i,)))
        threads[-1].start()
    for t in threads:
        t.join()
    for i, (method, target) in enumerate(asks):
        status, body = results[i]
        assert status == 200, (method, status, body[:200])
        got, want = attribution(json.loads(body)), expected[(method, target)]
        assert got.shape == want.shape, (method, got.shape, want.shape)
        scale = want.abs().max().item() + 1e-12
        err = (got - want).abs().max().item() / scale
        # Batched with other requests, the same sums run in other blockings: ig adds 50 gradients, each
        # off by float rounding, so a thousandth of the range is the bound, not bit equality.
        assert err < 1e-3, f"{method} for {target}: the server's attribution differs from the CLI's by {err:.2e} of its range"
    print(f"answers: {len(asks)} concurrent answers equal the CLI's")


def check_idle(port):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
    try:
        started = time.time()
        alive(port)
        print(f"idle: answered in {time.time() - started:.2f} s with 1,000 idle connections open")
    finally:
        for s in idle:
            s.close()


def check_slow(port):
    stop = threading.Event()
    text = f"POST /v1/models/faces:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999\r\n\r\n".encode()

    def slow():
        s = socket.create_connection(("127.0.0.1", port))
        try:
            for b in text:
                if stop.is_set():
                    return
                s.send(bytes([b]))
                time.sleep(1)
        except OSError:
            pass  # the server gave up on it: its right
        finally:
            s.close()

    threads = [threading.Thread(target=slow) for _ in range(20)]
    for t in threads:
        t.start()
    time.sleep(2)
    started = time.time()
    for _ in range(3):
        alive(port)
    stop.set()
    for t in threads:
        t.join()
    print(f"slow: 3 answers in {time.time() - started:.2f} s while 20 clients sent a byte a second")


def check_disconnect(port):
    body = explain_body("ig", 1).encode()
    for _ in range(10):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(f"POST /v1/models/faces:explain HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body[:len(body) // 2])
        s.close()
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(f"POST /v1/models/faces:explain HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        s.close()
    alive(port)
    # Every abandoned request is let go of: none stays in flight.
    deadline = time.time() + 60
    while time.time() < deadline:
        metrics = request(port, "GET", "/metrics")[1].decode()
        if re.search(r"^glassbox_requests_in_flight 1$", metrics, re.M):  # this scrape itself
            break
        time.sleep(0.5)
    else:
        raise AssertionError("requests of clients that left stayed in flight")
    print("disconnect: 20 clients left mid-request; nothing left in flight")


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def load(port, stop, counts, lock):
    asks = [("predict", None), ("saliency", 1), ("gradcam", "top2"), ("ig", 2)]
    i = 0
    while not stop.is_set():
        method, target = asks[i % len(asks)]
        i += 1
        try:
            if method == "predict":
                status, body = request(port, "POST", "/v1/models/faces:predict", json.dumps({"instances": [{"b64": PHOTO_B64}]}))
            else:
                status, body = request(port, "POST", "/v1/models/faces:explain", explain_body(method, target))
            json.loads(body)  # a whole answer, whatever its status
            key = str(status)
        except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected) as e:
            key = "refused"  # only once the listener closes: checked below
        except Exception as e:  # a torn answer
            key = "torn: " + repr(e)[:80]
        with lock:
            counts[key] = counts.get(key, 0) + 1


def check_soak(server, port):
    stop, lock, counts = threading.Event(), threading.Lock(), {}
    threads = [threading.Thread(target=load, args=(port, stop, counts, lock)) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(min(20, SOAK / 3))
    warm = rss_kib(server.pid)
    samples = []
    end = time.time() + SOAK
    while time.time() < end:
        time.sleep(5)
        samples.append(rss_kib(server.pid))
    stop.set()
    for t in threads:
        t.join()
    assert set(counts) == {"200"}, counts
    peak = max(samples)
    assert peak <= warm * 1.25 + 64 * 1024, f"resident memory grew from {warm} KiB to {peak} KiB under load"
    print(f"soak: {sum(counts.values())} requests in {SOAK:.0f} s after warm-up, RSS {warm / 1024:.0f} MiB after warm-up, "
          f"at most {peak / 1024:.0f} MiB, {samples[-1] / 1024:.0f} MiB at the end")


def check_sigterm(server, port):
    stop, lock, counts = threading.Event(), threading.Lock(), {}
    threads = [threading.Thread(target=load, args=(port, stop, counts, lock)) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(3)
    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=120)
    stop.set()
    for t in threads:
        t.join()
    torn = {k: v for k, v in counts.items() if k.startswith("torn")}
    assert not torn, f"answers cut by SIGTERM: {torn}"
    assert code == 0, f"exit status {code} after SIGTERM"
    assert counts.get("200", 0) > 0, counts
    assert set(counts) <= {"200", "503", "refused"}, counts
    print(f"sigterm: drained and exited 0; answers {counts}")


def main():
    os.makedirs(OUT, exist_ok=True)
    server, port = start_server("--read-timeout-ms", "3000", "--max-connections", "2048")
    try:
        alive(port)
        check_answers(port)
        check_idle(port)
        check_slow(port)
        check_disconnect(port)
        check_soak(server, port)
        alive(port)
        check_sigterm(server, port)
    finally:
        if server.poll() is None:
            server.kill()


if __name__ == "__main__":
    main()
