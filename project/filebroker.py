"""The embedded default's Celery transport: kombu's filesystem transport, written atomically.

kombu's filesystem channel creates a message file in the queue folder and
then writes into it; a worker that lists the folder in between reads an
empty file and dies on it ("Unrecoverable error: JSONDecodeError",
celery/kombu#1551, open). Here a message is written under a name the
consumer skips and renamed into place: a rename within one folder is
atomic, so a consumer sees the whole message or nothing.

``_put`` is the method kombu's virtual transports implement for publishing
(kombu.transport.virtual.Channel); everything else is kombu's own.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # kombu's name: time-ordered, unique, ending in ".<queue>.msg".
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # ".part" after ".msg": the consumer only takes names ending in ".<queue>.msg".
        partial = f"{final}.part"
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
