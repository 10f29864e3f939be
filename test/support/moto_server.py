"""moto's server, handling one request at a time.

DynamoDB applies every write (a conditional update, a whole TransactWriteItems) atomically. moto's threaded
server does not: two conditional updates can both pass their condition, and a cancelled transaction restores a
table copy taken before other requests wrote. One request at a time gives the tests DynamoDB's guarantee while
the SDK clients still send their requests concurrently.
"""

import sys
import threading

from moto import server

_one_at_a_time = threading.Lock()
_dispatch = server.DomainDispatcherApplication.__call__


def _serialised(self, environ, start_response):
    with _one_at_a_time:
        response = _dispatch(self, environ, start_response)
        try:
            return list(response)
        finally:
            getattr(response, "close", lambda: None)()


server.DomainDispatcherApplication.__call__ = _serialised

if __name__ == "__main__":
    server.main(sys.argv[1:])
