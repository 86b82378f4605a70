"""What every benchmark does with its result: stamp it and write it as JSON, without
losing the stored result the chapter quotes."""

import datetime
import json
import os


def utc_now():
    """The current time, for the result's "date" field."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def write_json(result, path):
    """Write `result` to `path` (creating its folder), say where, and return it.

    Written to a file beside it and renamed into place, so an interrupted write
    leaves the previous result whole, never half a file (and no stray one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(json.dumps(result, indent=2) + "\n")
        os.replace(partial, path)
    except BaseException:  # Ctrl-C included
        partial.unlink(missing_ok=True)
        raise
    print(f"wrote {path}")
    return result


def keep_stored_result(path, differences):
    """Stop, before anything is measured, a run that would replace the stored result
    at `path` with one made differently: the book, the README and the notebooks quote
    the stored one. `differences(stored)` lists how this run differs from it."""
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):  # nothing stored there, or nothing readable to keep
        return
    changes = differences(stored)
    if changes:
        raise SystemExit(
            f"{path} holds a stored result that the chapter quotes, and this run differs "
            f"from the one that made it: {'; '.join(changes)}. Write this run elsewhere "
            f"with --out PATH, or run it as the stored one was run to replace it.")


def changed_settings(stored, settings):
    """How `settings` differ from the stored result's, one phrase per setting."""
    saved = stored.get("settings", {})
    return [f"{name} {saved.get(name)!r} stored, {value!r} now"
            for name, value in settings.items() if saved.get(name) != value]


def changed_precision(stored, now):
    """A phrase if the stored result was computed in another number format than this
    run would be (a CPU with AVX-512 BF16 trains in bfloat16, one without in float32;
    a T4 in float16): its figures come from other arithmetic, not a rerun."""
    return ([f"precision {stored} stored, {now} now (set by this machine's hardware, "
             "not by an option)"] if stored and stored != now else [])


def changed_host_cpu(stored, now):
    """A phrase if the stored result was measured on another CPU (model or cores
    available): for a result timed on a CPU, other hardware, not a rerun."""
    return [f"CPU {stored!r} stored, {now!r} now"] if stored and stored != now else []
