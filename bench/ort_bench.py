"""onnxruntime reference for `twinseg bench`: the same model files and the
same prepared inputs, timed the same way (one warm-up, then N runs), with one
intra-op thread and with onnxruntime's default threads (one per core, as
`twinseg bench` uses by default).

Prints one JSON object on stdout: per step a list of run times in ms.
"""

import argparse
import json
import time

import numpy as np
import onnxruntime as ort


def session(path, threads):
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def timed(runs, step):
    step()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", required=True)
    parser.add_argument("--decoder", required=True)
    parser.add_argument("--image", required=True, help="raw little-endian f32 [1,3,1024,1024]")
    parser.add_argument("--point", required=True, help="x,y in the 1024 frame")
    parser.add_argument("--orig-size", required=True, help="H,W of the original image")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    image = np.fromfile(args.image, dtype="<f4").reshape(1, 3, 1024, 1024)
    x, y = (float(v) for v in args.point.split(","))
    h, w = (float(v) for v in args.orig_size.split(","))
    report = {"version": ort.__version__}
    for label, threads in (("1_thread", 1), ("default_threads", 0)):
        encoder = session(args.encoder, threads)
        feed = {encoder.get_inputs()[0].name: image}
        embedding = encoder.run(None, feed)[0]
        report[f"encoder_{label}"] = timed(args.runs, lambda: encoder.run(None, feed))
        decoder = session(args.decoder, threads)
        names = {i.name for i in decoder.get_inputs()}
        inputs = {
            "image_embeddings": embedding.astype(np.float32),
            "point_coords": np.array([[[x, y], [0.0, 0.0]]], dtype=np.float32),
            "point_labels": np.array([[1.0, -1.0]], dtype=np.float32),
            "mask_input": np.zeros((1, 1, 256, 256), dtype=np.float32),
            "has_mask_input": np.zeros((1,), dtype=np.float32),
            "orig_im_size": np.array([h, w], dtype=np.float32),
        }
        inputs = {k: v for k, v in inputs.items() if k in names}
        outputs = ["iou_predictions", "low_res_masks"]
        report[f"decoder_{label}"] = timed(
            args.runs, lambda: decoder.run(outputs, inputs)
        )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
