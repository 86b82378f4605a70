"""What every benchmark does with its result: stamp it and write it as JSON."""

import datetime
import json


def utc_now():
    """The current time, for the result's "date" field."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def write_json(result, path):
    """Write `result` to `path` (creating its folder), say where, and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return result
