"""Log set-up for the server and the gateway: the human format by default, or one JSON object a line.

JSON lines (`--log-json`, or MAMORI_LOG_FORMAT=json) carry time (UTC, RFC 3339), level, logger,
message, any `extra=` fields the call passed, and the traceback as `exc` — for journald or a log
collector that would otherwise have to parse the human format.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime

HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What every LogRecord has; anything else on a record came from `extra=` and goes into the JSON.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def wants_json(flag: bool = False) -> bool:
    return flag or os.environ.get("MAMORI_LOG_FORMAT", "").strip().lower() == "json"


def setup_logging(*, verbose: bool = False, json_lines: bool = False) -> None:
    """The root logger's one handler (stderr) in the chosen format; replaces what was there."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if wants_json(json_lines) else logging.Formatter(HUMAN_FORMAT))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True)
