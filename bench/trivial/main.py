"""The baseline for throughput: a functions-framework HTTP handler doing nothing."""

import flask
import functions_framework


@functions_framework.http
def handle(request: flask.Request) -> flask.Response:
    return flask.Response(status=204)
