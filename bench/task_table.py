#!/usr/bin/python3
"""task_table.py - the image-to-image table of the README: each task trained with its
spec defaults (pix2pix: a U-Net G, a PatchGAN D, lambda 100; width 32, batch 16) for 5
seeds and --steps steps (0: the default 2,000; the README's table is --steps 500), its
held-out psnr / ssim / l1 against the task's naive baseline (mean +/- std over the
seeds), with the steps and the wall seconds a run took.

Runs `ganctld train` (build/ganctld, or $GANCTLD) with one compute thread per run and
--jobs runs side by side. The colour sets are the emoji of the npm packages
emoji-datasource-google (Noto, Apache 2.0) and emoji-datasource-twitter (Twemoji,
CC-BY 4.0), copied into a scratch dataset folder by scripts/emoji-sets.sh; `npm ci`
installs them. With --pictures DIR the first seed's final sample grid of each task
is written to DIR/task-NAME.png.

    /usr/bin/python3 bench/task_table.py [--seeds 5] [--jobs 2] [--steps N]
        [--tasks sr,inpaint,...] [--pictures docs/img]
"""
import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("GANCTLD", os.path.join(ROOT, "build", "ganctld"))

EMOJI = {"dataset": {"name": "png-dir", "path": "emoji-noto", "image_size": 32, "channels": 3}}
TASKS = [
    ("sr", "super-resolution x4", "Fashion-MNIST 28x28", "bicubic",
     {"task": {"kind": "super-resolution", "factor": 4}}),
    ("inpaint", "inpainting (centre 14x14)", "Fashion-MNIST 28x28", "mean fill",
     {"task": {"kind": "inpainting", "mask": "center"}}),
    ("edges", "edges -> image", "Fashion-MNIST 28x28", "mean image",
     {"task": {"kind": "edges"}}),
    ("colorize", "colorize", "Noto emoji 32x32", "gray",
     dict(EMOJI, task={"kind": "colorize"})),
    ("paired", "paired: Noto -> Twemoji", "emoji 32x32", "mean image",
     {"dataset": {"name": "png-dir", "path": "emoji-twemoji", "image_size": 32, "channels": 3},
      "task": {"kind": "paired", "source_path": "emoji-noto"}}),
]
FIGS = ["psnr", "ssim", "l1"]


def one(args, datasets, name, extra, seed):
    spec = {"name": "%s-%d" % (name, seed), "train": {"seed": seed},
            "every": {"log": 0, "sample": 0, "checkpoint": 0, "eval": 0}}
    spec.update(extra)
    spec.setdefault("dataset", {"name": "fashion-mnist"})
    if args.steps:
        spec["train"]["steps"] = args.steps
    pics = args.pictures and seed == 1
    if pics:
        spec["every"]["sample"] = args.steps or 1_000_000
    d = tempfile.mkdtemp(prefix="task-table-")
    try:
        path = os.path.join(d, "spec.json")
        spec["dataset"] = dict(spec["dataset"])
        if "path" in spec["dataset"]:
            spec["dataset"]["path"] = os.path.join(datasets, spec["dataset"]["path"])
        if "source_path" in spec["task"]:
            spec["task"] = dict(spec["task"], source_path=os.path.join(datasets,
                                                                       spec["task"]["source_path"]))
        spec["every"]["eval"] = 1_000_000  # the last step evaluates
        with open(path, "w") as f:
            json.dump(spec, f)
        t0 = time.time()
        p = subprocess.run([BIN, "train", path, "--data", os.path.join(d, "var"),
                            "--threads", "1"], capture_output=True, text=True)
        secs = time.time() - t0
        if p.returncode != 0:
            raise RuntimeError("%s seed %d: %s" % (name, seed, p.stderr[-2000:]))
        run = json.loads(p.stdout.strip().splitlines()[-1])
        if pics:
            db = sqlite3.connect(os.path.join(d, "var", "ganctl.db"))
            png = db.execute("SELECT png FROM samples ORDER BY step DESC LIMIT 1").fetchone()[0]
            db.close()
            with open(os.path.join(args.pictures, "task-%s.png" % name), "wb") as f:
                f.write(png)
        return run["eval"], run["steps"], secs
    finally:
        shutil.rmtree(d, ignore_errors=True)


def fmt(xs, digits):
    m = statistics.mean(xs)
    s = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return "%.*f +/- %.*f" % (digits, m, digits, s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--steps", type=int, default=0, help="0: the spec default")
    ap.add_argument("--tasks", default=",".join(t[0] for t in TASKS))
    ap.add_argument("--pictures", default="")
    args = ap.parse_args()
    want = args.tasks.split(",")
    datasets = tempfile.mkdtemp(prefix="task-table-sets-")
    subprocess.run(["sh", os.path.join(ROOT, "scripts", "emoji-sets.sh"), datasets], check=True)
    if args.pictures:
        os.makedirs(args.pictures, exist_ok=True)
    jobs = [(t, s) for t in TASKS if t[0] in want for s in range(1, args.seeds + 1)]
    with ThreadPoolExecutor(args.jobs) as ex:
        futs = {(t[0], s): ex.submit(one, args, datasets, t[0], t[4], s) for t, s in jobs}
        results = {k: f.result() for k, f in futs.items()}
    shutil.rmtree(datasets, ignore_errors=True)
    print("| task | data | G: psnr (dB) | baseline | G: ssim | baseline | G: l1 | baseline "
          "| steps | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, label, data, base, _ in TASKS:
        rs = [results[(name, s)] for s in range(1, args.seeds + 1) if (name, s) in results]
        if not rs:
            continue
        cells = []
        for fig in FIGS:
            d = 2 if fig == "psnr" else 3 if fig == "ssim" else 4
            cells.append(fmt([r[0][fig] for r in rs], d))
            cells.append(fmt([r[0][fig + "_baseline"] for r in rs], d) + " (%s)" % base
                         if fig == "psnr" else fmt([r[0][fig + "_baseline"] for r in rs], d))
        print("| %s | %s | %s | %d | %.0f |" % (label, data, " | ".join(cells), rs[0][1],
                                                statistics.mean(r[2] for r in rs)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
