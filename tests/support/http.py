"""A checkpoint server on 127.0.0.1 that cuts its first response short: how the fetch tests and
``benchmarks/zoo_fetch.py`` exercise download retries and HTTP range resume."""

import http.server


class FlakyRangeServer(http.server.ThreadingHTTPServer):
    """Serves one file with HTTP range support; the first response is cut after ``cut`` bytes."""

    def __init__(self, payload: bytes, cut: int | None):
        self.payload, self.cut, self.requests = payload, cut, []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        server = self.server
        server.requests.append(self.headers.get("Range"))
        if self.path != "/weights/model-file.pth":
            self.send_error(404)
            return
        start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers["Range"] \
            else 0
        body = server.payload[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if server.cut is not None:
            body, server.cut = body[:server.cut], None
            self.wfile.write(body)
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass
