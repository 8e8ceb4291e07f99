#!/usr/bin/python3
"""test_translate.py — image-to-image runs over the real API: the spec's task (its
defaults, its field errors, paths kept inside the dataset root), runs of each task
trained for a few steps, POST /api/v1/runs/{id}/translate answering a PNG of the right
size and channels, and every kind of bad picture getting a 4xx problem that says what
was wrong, with the run left as it was.

Starts the real build/ganctld (or $GANCTLD; tests/checkers.sh runs it against the TSan
build too). Pictures are made here with zlib. Only the standard library. The last line
printed is "N passed, N failed, N skipped"."""

import json
import os
import shutil
import struct
import sys
import tempfile
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ganctld_proc  # noqa: E402
from ganctld_proc import run_suite  # noqa: E402

TERMINAL = {"succeeded", "failed", "canceled"}
COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}


def png(w, h, c, pixel):
    """A PNG of w x h with c channels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA); pixel(x, y)
    gives the c values."""
    raw = b"".join(b"\x00" + bytes(v for x in range(w) for v in pixel(x, y)) for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, COLOR_TYPES[c], 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def png_size(data):
    """(width, height, channels) from a PNG's header."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
    return w, h, {v: k for k, v in COLOR_TYPES.items()}[ctype]


def small(steps=4, **task):
    return {"dataset": {"name": "fashion-mnist"}, "task": task,
            "model": {"g_width": 4, "d_width": 4},
            "train": {"steps": steps, "batch_size": 4},
            "every": {"log": 2, "sample": steps, "checkpoint": steps, "eval": steps}}


class TranslateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ganctl-translate-")
        cls.datasets = os.path.join(cls.tmp, "datasets")
        for sub in ("colour", "inputs"):
            os.makedirs(os.path.join(cls.datasets, sub))
        # twelve colour images and their gray inputs, 16x16
        for i in range(12):
            name = "im%02d.png" % i
            with open(os.path.join(cls.datasets, "colour", name), "wb") as f:
                f.write(png(16, 16, 3, lambda x, y: ((x * 16) % 256, (y * 16) % 256, i * 20)))
            with open(os.path.join(cls.datasets, "inputs", name), "wb") as f:
                f.write(png(16, 16, 3, lambda x, y: (x * 8, x * 8, x * 8)))
        cls.d = ganctld_proc.Daemon(os.path.join(cls.tmp, "data"),
                                    args=["--workers", "1", "--threads", "1",
                                          "--datasets", cls.datasets]).start()
        cls.runs = {}
        for key, spec in {
            "sr": small(kind="super-resolution", factor=4),
            "inpaint": small(kind="inpainting", mask="random"),
            "colorize": dict(small(kind="colorize"),
                             dataset={"name": "png-dir", "path": "colour", "image_size": 16}),
            "paired": dict(small(kind="paired", source_path="inputs"),
                           dataset={"name": "png-dir", "path": "colour", "image_size": 16,
                                    "channels": 1}),
        }.items():
            cls.runs[key] = cls.d.json("POST", "/api/v1/runs", spec, expect=201)["id"]
        cls.plain = cls.d.json("POST", "/api/v1/runs",
                               {"dataset": {"name": "ring8"}, "model": {"hidden": 8},
                                "train": {"steps": 2}}, expect=201)["id"]
        for rid in list(cls.runs.values()) + [cls.plain]:
            run = cls.d.wait_status(rid, TERMINAL, timeout=600)
            assert run["status"] == "succeeded", run

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def translate(self, rid, body, ctype="image/png"):
        st, h, data = self.d.request("POST", "/api/v1/runs/%d/translate" % rid, body=body,
                                     headers={"Content-Type": ctype} if ctype else {})
        return st, h, data

    def problem(self, rid, body, status, words, ctype="image/png"):
        st, h, data = self.translate(rid, body, ctype)
        self.assertEqual(st, status, data[:300])
        self.assertEqual(h["content-type"], "application/problem+json")
        p = json.loads(data)
        self.assertEqual(p["status"], status)
        for w in words:
            self.assertIn(w, p["detail"])
        return p

    # ---- the spec ------------------------------------------------------------------

    def test_task_defaults_and_normalized_spec(self):
        d = self.d.json("GET", "/api/v1/spec/defaults?dataset=fashion-mnist&task=inpainting")
        self.assertEqual(d["task"], {"kind": "inpainting", "factor": 4, "mask": "center",
                                     "source_path": None})
        self.assertEqual(d["model"]["arch"], "unet")
        self.assertTrue(d["model"]["patch"])
        self.assertEqual(d["tricks"]["l1_weight"], 100)
        plain = self.d.json("GET", "/api/v1/spec/defaults?dataset=fashion-mnist")
        self.assertIsNone(plain["task"])
        self.assertEqual(plain["model"]["arch"], "dcgan")
        st, _, data = self.d.request("GET", "/api/v1/spec/defaults?dataset=ring8&task=x")
        self.assertEqual(st, 400)
        self.assertIn("task", json.loads(data)["errors"][0]["field"])
        run = self.d.json("GET", "/api/v1/runs/%d" % self.runs["paired"])
        self.assertEqual(run["spec"]["task"]["source_path"], "inputs")  # as given
        for k in ("psnr", "ssim", "l1", "psnr_baseline", "ssim_baseline", "l1_baseline"):
            self.assertIn(k, run["eval"])
        self.assertIn("loss_l1", run["latest"])
        cat = self.d.json("GET", "/api/v1/catalog")
        self.assertIn("unet", cat["archs"])
        self.assertIn("colorize", cat["tasks"])

    def test_task_field_errors(self):
        cases = [
            ({"dataset": {"name": "ring8"}, "task": {"kind": "edges"}}, "task"),
            ({"task": {"kind": "colorize"}}, "task.kind"),
            ({"task": {"kind": "super-resolution", "factor": 3}}, "task.factor"),
            ({"task": {"kind": "blur"}}, "task.kind"),
            ({"task": {"kind": "paired"}}, "dataset.name"),
            ({"task": {"kind": "edges"}, "model": {"arch": "dcgan"}}, "model.arch"),
            ({"model": {"arch": "unet"}}, "model.arch"),
            ({"task": {"kind": "edges", "color": 1}}, "task.color"),
            ({"dataset": {"name": "png-dir", "path": "colour"},
              "task": {"kind": "paired", "source_path": "../.."}}, "task.source_path"),
            ({"dataset": {"name": "png-dir", "path": "colour"},
              "task": {"kind": "paired", "source_path": "none"}}, "task.source_path"),
        ]
        before = len(self.d.json("GET", "/api/v1/runs?limit=500")["runs"])
        for spec, field in cases:
            st, _, data = self.d.request("POST", "/api/v1/runs", spec)
            self.assertEqual(st, 400, (spec, data))
            fields = [e["field"] for e in json.loads(data)["errors"]]
            self.assertIn(field, fields, (spec, data))
        self.assertEqual(len(self.d.json("GET", "/api/v1/runs?limit=500")["runs"]), before)

    # ---- translate -----------------------------------------------------------------

    def test_super_resolution_returns_the_large_image(self):
        st, h, data = self.translate(self.runs["sr"], png(7, 7, 1, lambda x, y: (x * 30,)))
        self.assertEqual(st, 200, data[:300])
        self.assertEqual(h["content-type"], "image/png")
        self.assertEqual(png_size(data), (28, 28, 1))
        # a colour picture is taken by its luma
        st, _, data = self.translate(self.runs["sr"], png(7, 7, 4, lambda x, y: (9, 99, 199, 255)))
        self.assertEqual(st, 200)
        self.assertEqual(png_size(data), (28, 28, 1))

    def test_inpainting_keeps_the_known_pixels(self):
        hole = png(28, 28, 2, lambda x, y: (200, 0 if 10 <= x < 18 and 10 <= y < 18 else 255))
        st, _, data = self.translate(self.runs["inpaint"], hole)
        self.assertEqual(st, 200, data[:300])
        self.assertEqual(png_size(data), (28, 28, 1))
        p = self.problem(self.runs["inpaint"], png(28, 28, 1, lambda x, y: (200,)), 400,
                         ["alpha"])
        self.assertEqual(p["errors"][0]["field"], "body")

    def test_colorize_and_paired(self):
        st, _, data = self.translate(self.runs["colorize"], png(16, 16, 1, lambda x, y: (x,)))
        self.assertEqual(st, 200, data[:300])
        self.assertEqual(png_size(data), (16, 16, 3))
        st, _, data = self.translate(self.runs["paired"], png(16, 16, 3, lambda x, y: (x, y, 0)))
        self.assertEqual(st, 200, data[:300])
        self.assertEqual(png_size(data), (16, 16, 1))

    def test_bad_pictures(self):
        sr = self.runs["sr"]
        self.problem(sr, png(28, 28, 1, lambda x, y: (0,)), 400, ["28x28", "takes 7x7"])
        self.problem(sr, b"GIF89a not a png", 400, ["not a PNG"])
        self.problem(sr, png(7, 7, 1, lambda x, y: (0,))[:40], 400, ["not a PNG"])  # cut short
        self.problem(sr, b"", 400, ["empty"])
        self.problem(sr, png(7, 7, 1, lambda x, y: (0,)), 415, ["image/png"],
                     ctype="application/json")
        self.problem(sr, png(7, 7, 1, lambda x, y: (0,)), 415, ["image/png"], ctype=None)
        self.problem(sr, b"\x89PNG" + b"\0" * (1024 * 1024 + 10), 413, ["larger"])
        # a header that claims a giant picture: refused before it is decoded
        giant = bytearray(png(7, 7, 1, lambda x, y: (0,)))
        giant[16:24] = struct.pack(">II", 100000, 100000)
        giant[29:33] = struct.pack(">I", zlib.crc32(bytes(giant[12:29])))
        self.problem(sr, bytes(giant), 400, ["100000x100000", "takes 7x7"])
        self.problem(self.plain, png(7, 7, 1, lambda x, y: (0,)), 409, ["no task"])
        self.problem(999999, png(7, 7, 1, lambda x, y: (0,)), 404, ["no run"])
        # and the run is as it was
        run = self.d.json("GET", "/api/v1/runs/%d" % sr)
        self.assertEqual(run["status"], "succeeded")
        st, _, data = self.translate(sr, png(7, 7, 1, lambda x, y: (0,)))
        self.assertEqual(st, 200)

    def test_generate_refuses_a_task_run(self):
        st, _, data = self.d.request("POST", "/api/v1/runs/%d/generate" % self.runs["sr"], {})
        self.assertEqual(st, 409)
        self.assertIn("translate", json.loads(data)["detail"])

    def test_sample_grid_is_triplets(self):
        st, _, data = self.d.request("GET", "/api/v1/runs/%d/samples/latest.png" %
                                     self.runs["colorize"])
        self.assertEqual(st, 200)
        w, h, c = png_size(data)
        # 3 columns of 16 and a row per held-out image (one of 12), 2-pixel gaps
        self.assertEqual((w, h, c), (3 * 18 + 2, 18 + 2, 3))


if __name__ == "__main__":
    sys.exit(run_suite(__name__))
