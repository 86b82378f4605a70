"""The `{benchmark-results}` directive: the stored results of the speed benchmarks.

Read from benchmarks/results/*.json when the book is built, so the status page
shows exactly what the last benchmark runs wrote, with the hardware each ran on.
"""

import json
from pathlib import Path

from notebook_status import GeneratedMarkdown  # same folder, on Sphinx's path


def result_files(root):
    return sorted((Path(root) / "benchmarks" / "results").glob("*.json"))


def duration(seconds):
    """Seconds for a CPU's training step, milliseconds for anything under one."""
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def benchmark_table(root):
    """Every stored benchmark result as Markdown tables: training speed, one bare
    training step per number format and layout, our step timed step by step beside
    a bare one, then the loaders."""
    training = ["| hardware | date | baseline (d2l-style) | ours (`train_ch6`) | speed-up "
                "| share of bf16 peak | full 10 epochs |",
                "| --- | --- | --- | --- | --- | --- | --- |"]
    loading = ["| hardware | date | framework | per image | ours (per batch) | speed-up |",
               "| --- | --- | --- | --- | --- | --- |"]
    # One bare training step of ours in each number format and layout (--ablation).
    step_kinds = ("float32, NCHW", "float32, channels-last",
                  "bfloat16, NCHW", "bfloat16, channels-last")
    steps = ["| hardware | date | " + " | ".join(step_kinds) + " |",
             "| --- | --- | " + " | ".join("---" for _ in step_kinds) + " |"]
    # Each part of our training step, timed round by round (step_time.py).
    step_parts = ("fetch and resize", "our step", "bare step")
    parts = ["| hardware | date | number format | " + " | ".join(
                 f"{part}: mean (fastest–slowest)" for part in step_parts) + " |",
             "| --- | --- | --- | " + " | ".join("---" for _ in step_parts) + " |"]
    for path in result_files(root):
        result = json.loads(path.read_text())
        date = result["date"][:10]
        if result["benchmark"] == "train_speed":
            share, run = result["share_of_bf16_peak"], result["full_run"]
            precision = result["ours"].get("precision")  # a hand-made result may lack it
            share = "—" if share is None else f"{share:.1%}"
            run = ("not run" if run is None
                   else f"{run['train_seconds']:.1f} s training, test acc {run['test_acc']:.3f}")
            training.append(
                f"| {result['hardware']} | {date} "
                f"| {result['baseline']['images_per_sec']:,.0f} images/s "
                f"| {result['ours']['images_per_sec']:,.0f} images/s"
                f"{', ' + precision if precision else ''} "
                f"| {result['speedup']:.2f}× | {share} | {run} |")
            if result.get("ablation"):
                steps.append(f"| {result['hardware']} | {date} | " + " | ".join(
                    f"{result['ablation'][kind]:,.1f} images/s" if kind in result["ablation"]
                    else "not run" for kind in step_kinds) + " |")
        elif result["benchmark"] == "step_time":
            seconds = result["seconds"]
            parts.append(f"| {result['hardware']} | {date} | {result['precision']} | " + " | ".join(
                f"{duration(seconds[part]['mean'])} ({duration(seconds[part]['fastest'])}"
                f"–{duration(seconds[part]['slowest'])})" for part in step_parts) + " |")
        elif result["benchmark"] == "loader_speed":
            for framework, speeds in result["frameworks"].items():
                loading.append(f"| {result['hardware']} | {date} | {framework} "
                               f"| {speeds['per_image']:,.0f} images/s "
                               f"| {speeds['ours']:,.0f} images/s | {speeds['speedup']:.1f}× |")
    return "\n".join(training + [""] + steps + [""] + parts + [""] + loading)


class BenchmarkResults(GeneratedMarkdown):
    """Insert the tables of stored benchmark results."""

    def sources(self):
        return result_files(self.env.srcdir)

    def markdown(self):
        return benchmark_table(self.env.srcdir)


def setup(app):
    app.add_directive("benchmark-results", BenchmarkResults)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
