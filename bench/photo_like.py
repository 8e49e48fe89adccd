"""Writes a photo-like test picture as PNG, with only the Python standard library.

Pretrained weights and real photos cannot be downloaded where the benchmarks
run, so this draws what the flat generated scenes lack: a sky gradient with a
sun glow, a textured ground in perspective, shaded round and boxy objects with
soft shadows and blurred edges, foliage, and sensor noise. Deterministic for a
given seed.

    python3 bench/photo_like.py OUT.png [--width 640] [--height 480] [--seed 7]
"""

import argparse
import math
import random
import struct
import zlib


def clamp(value):
    return max(0, min(255, int(value)))


def smoothstep(edge0, edge1, x):
    t = max(0.0, min(1.0, (x - edge0) / (edge1 - edge0)))
    return t * t * (3 - 2 * t)


def mix(a, b, t):
    return tuple(a[i] + (b[i] - a[i]) * t for i in range(3))


def value_noise(rng, size):
    """A lattice of random values, read back with bilinear smoothing."""
    grid = [[rng.random() for _ in range(size + 1)] for _ in range(size + 1)]

    def sample(u, v):
        x, y = u * size, v * size
        x0, y0 = min(int(x), size - 1), min(int(y), size - 1)
        fx, fy = smoothstep(0, 1, x - x0), smoothstep(0, 1, y - y0)
        top = grid[y0][x0] * (1 - fx) + grid[y0][x0 + 1] * fx
        bottom = grid[y0 + 1][x0] * (1 - fx) + grid[y0 + 1][x0 + 1] * fx
        return top * (1 - fy) + bottom * fy

    return sample


def scene(width, height, seed):
    rng = random.Random(seed)
    coarse = value_noise(rng, 8)
    fine = value_noise(rng, 48)
    horizon = 0.45
    sun = (0.78, 0.18)
    ball = (0.30, 0.66, 0.11)
    box = (0.52, 0.55, 0.74, 0.80)
    bush = (0.86, 0.62, 0.12)
    rows = []
    for py in range(height):
        v = py / height
        row = bytearray([0])
        for px in range(width):
            u = px / width
            if v < horizon:
                colour = mix((70, 120, 200), (200, 220, 240), v / horizon)
                glow = math.exp(-(((u - sun[0]) * 1.3) ** 2 + (v - sun[1]) ** 2) * 40)
                colour = mix(colour, (255, 240, 200), glow)
                colour = mix(colour, (255, 255, 255), 0.25 * smoothstep(0.55, 0.8, coarse(u, v * 2)))
            else:
                depth = (v - horizon) / (1 - horizon)
                grass = mix((90, 120, 60), (60, 110, 40), coarse(u, v))
                colour = mix(grass, (120, 100, 70), 0.4 * fine(u, depth * depth))
                colour = mix(colour, (40, 60, 30), 0.3 * (1 - depth))
            # Soft shadows on the ground, then the objects over them.
            shadow = math.hypot((u - ball[0] - 0.05) / 1.6, v - ball[1] - ball[2] * 0.9)
            colour = mix(colour, (20, 30, 20), 0.5 * (1 - smoothstep(0.02, 0.09, shadow)))
            if box[0] + 0.03 < u < box[2] + 0.05 and box[3] - 0.01 < v < box[3] + 0.04:
                colour = mix(colour, (25, 30, 25), 0.45)
            d = math.hypot((u - ball[0]) * width / height, v - ball[1])
            if d < ball[2] + 0.004:
                light = max(0.0, 1 - math.hypot((u - ball[0] + 0.04) * 6, (v - ball[1] + 0.05) * 6))
                base = mix((150, 20, 25), (255, 180, 170), light * light)
                colour = mix(base, colour, smoothstep(ball[2] - 0.004, ball[2] + 0.004, d))
            if box[0] < u < box[2] and box[1] < v < box[3]:
                side = (u - box[0]) / (box[2] - box[0])
                base = mix((200, 160, 60), (120, 90, 30), smoothstep(0.6, 0.62, side))
                colour = mix(base, (80, 60, 20), 0.3 * fine(u * 3, v * 3))
            b = math.hypot((u - bush[0]) * width / height, (v - bush[1]) * 1.4)
            if b < bush[2] * (0.8 + 0.4 * fine(u * 2, v * 2)):
                colour = mix((30, 90, 30), (90, 160, 60), fine(u * 4, v * 4))
            noise = rng.gauss(0, 4)
            row.extend(clamp(c + noise) for c in colour)
        rows.append(bytes(row))
    return b"".join(rows)


def png(width, height, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with open(args.out, "wb") as file:
        file.write(png(args.width, args.height, scene(args.width, args.height, args.seed)))


if __name__ == "__main__":
    main()
