#!/usr/bin/env python3
"""moto_server with DynamoDB and Secrets Manager requests applied one at a time.

moto serves requests on threads and does not lock its backends, so two conditional writes racing
each other can both pass their condition (a lost update that real DynamoDB never allows: each
item write there is atomic). Our optimistic-concurrency code is tested against that race, so the
local AWS must not invent it: this launcher serializes the requests of the two services whose
conditional semantics the project relies on (X-Amz-Target DynamoDB_20120810.* and
secretsmanager.*). SQS stays concurrent (its long polls would otherwise block everything).

    moto_server.py -H 127.0.0.1 -p PORT
"""

import argparse
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

SERIALIZED = ("DynamoDB_20120810.", "secretsmanager.")


class SerializeAtomicServices:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(SERIALIZED):
            return self.app(environ, start_response)
        with self.lock:
            # The whole response is produced under the lock (moto answers with a list).
            return list(self.app(environ, start_response))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        SerializeAtomicServices(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
