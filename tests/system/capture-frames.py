#!/usr/bin/python3
# Writes test frames for the alpr-captured scenarios (never real data):
#   capture-frames.py DIR KIND COUNT [WIDTH HEIGHT] [EXT]
#   capture-frames.py -m DIR:KIND:COUNT:WIDTH:HEIGHT...
# KIND: scene (sharp shapes and text; frame i's mean grey rises with i, so
# a receiver can check order), blurred (the same scene, heavily blurred),
# black, grey (uniform: a covered lens), white, or video (DIR is a file: an MJPG .avi of scenes).
import sys
import cv2
import numpy as np


def scene(i, w, h):
    img = np.full((h, w), 70, np.uint8)
    rng = np.random.default_rng(1234)
    for _ in range(24):
        x, y = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
        cw, ch = int(rng.integers(20, w // 4)), int(rng.integers(20, h // 4))
        cv2.rectangle(img, (x, y), (x + cw, y + ch), int(rng.integers(20, 200)), -1)
    for k in range(6):
        cv2.putText(img, "7ABC%03d" % (k * 111), (20 + k * w // 7, h // 2 + (k % 3) * 40),
                    cv2.FONT_HERSHEY_SIMPLEX, max(w / 900, 0.6), 210, 2)
    # The frame's number in its mean: +1 grey level per frame (wraps at 40).
    return cv2.add(img, np.full((h, w), i % 40, np.uint8))


def main():
    # -m DIR:KIND:COUNT:WIDTH:HEIGHT...: several sets for one start of Python
    # (importing OpenCV is the slow part on a loaded machine).
    if sys.argv[1] == "-m":
        for job in sys.argv[2:]:
            d, kind, count, w, h = job.split(":")
            write(d, kind, int(count), int(w), int(h), "png")
        return
    out, kind, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    w = int(sys.argv[4]) if len(sys.argv) > 4 else 320
    h = int(sys.argv[5]) if len(sys.argv) > 5 else 240
    ext = sys.argv[6] if len(sys.argv) > 6 else "png"
    write(out, kind, count, w, h, ext)


def write(out, kind, count, w, h, ext):
    if kind == "video":
        vw = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*"MJPG"), 30, (w, h))
        for i in range(count):
            vw.write(cv2.cvtColor(scene(i, w, h), cv2.COLOR_GRAY2BGR))
        vw.release()
        return
    for i in range(count):
        if kind == "scene":
            img = scene(i, w, h)
        elif kind == "blurred":
            img = cv2.GaussianBlur(scene(i, w, h), (0, 0), max(w / 80, 4))
        elif kind == "black":
            img = np.zeros((h, w), np.uint8)
        elif kind == "grey":
            # Lit but featureless, as through a covered or fogged lens.
            img = np.full((h, w), 128, np.uint8)
        elif kind == "white":
            img = np.full((h, w), 250, np.uint8)
        else:
            raise SystemExit("unknown kind " + kind)
        cv2.imwrite("%s/frame-%04d.%s" % (out, i, ext), img)


main()
