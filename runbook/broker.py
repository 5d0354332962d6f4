"""kombu's Redis and file-system transports, with two faults that stopped the worker removed.

Chosen in settings (``CELERY_BROKER_TRANSPORT``) from the broker URL's scheme.
"""

import logging

from kombu.transport import filesystem, redis

log = logging.getLogger(__name__)


class RedisChannel(redis.Channel):
    """A channel of a lost connection says so with a connection error.

    When Redis goes away, celery 5.7 ``collect()``s the lost connection, which detaches its
    transport (``client = None``), and then still uses that connection's channel: to close it
    (giving back the countdown tasks it holds) and to acknowledge tasks that were running.
    Each rebuilds a connection pool from the detached transport and fails with
    ``AttributeError: 'NoneType' object has no attribute 'hostname'``; celery lets only
    connection errors pass there, so the worker stopped for good ("Unrecoverable error").
    Raised as a connection error instead, celery logs it and reconnects. The tasks the old
    channel held stay in Redis's unacked set, which gives them out again after the visibility
    timeout; the rows they ring for are delivered or fired by the sweep meanwhile, once.
    """

    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise redis.redis.exceptions.ConnectionError("the broker connection was closed")
        return super()._connparams(asynchronous=asynchronous)


class RedisTransport(redis.Transport):
    Channel = RedisChannel


class FilesystemChannel(filesystem.Channel):
    """A message file that cannot be read (0 bytes after a full disk, cut short, not JSON)
    is logged and skipped. kombu raised on it, the worker died, and died again on the same
    file at every start until someone deleted it by hand."""

    def _get(self, queue):
        while True:
            # kombu takes the file out of the queue's folder before it reads it, so after a
            # bad one the next call goes on with the next message.
            try:
                payload = super()._get(queue)
            except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
                log.error("Skipped an unreadable broker message in queue %s: %s", queue, exc)
                continue
            if isinstance(payload, dict) and {"body", "properties"} <= payload.keys():
                return payload
            log.error("Skipped a broker message in queue %s that is not a task message", queue)

    # The bindings of broadcast exchanges (worker control) are files too; an unreadable one is
    # removed, and the workers bind again.
    def get_table(self, exchange):
        try:
            return super().get_table(exchange)
        except (ValueError, UnicodeDecodeError, TypeError) as exc:
            self._drop_exchange_file(exchange, exc)
            return []

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        try:
            return super()._queue_bind(exchange, routing_key, pattern, queue)
        except (ValueError, UnicodeDecodeError, TypeError) as exc:
            self._drop_exchange_file(exchange, exc)
            return super()._queue_bind(exchange, routing_key, pattern, queue)

    def _drop_exchange_file(self, exchange, exc):
        log.error("Removed the unreadable bindings of broker exchange %s: %s", exchange, exc)
        self._exchange_file(exchange).unlink(missing_ok=True)


class FilesystemTransport(filesystem.Transport):
    Channel = FilesystemChannel
