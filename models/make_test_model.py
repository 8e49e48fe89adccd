"""Writes twinseg's own small test model: a SAM-contract encoder/decoder pair
that segments flat-coloured shapes by colour region growing.

It is not SAM and learns nothing. It keeps the exact ONNX contract of the
widely used SAM export (names, ranks, dtypes, four masks per prompt) so that
the Rust pipeline runs on it exactly as on real SAM weights, and its masks are
meaningful on the synthetic scenes, so tests can assert real answers.

Usage: python make_test_model.py --out-dir .   (writes twinseg_test_encoder.onnx
and twinseg_test_decoder.onnx). Needs only the `onnx` package (models/requirements.txt).

How it works (all standard ONNX ops):
- encoder: 4x4 average pooling of the normalised 1024x1024 input gives a
  256x256 map of mean colour m; the same pooling of |x|^2 gives the mean
  squared norm q, and of "pixel is not padding" the valid fraction v. The five
  256x256 maps are packed into 80 of the 256 embedding channels by
  space-to-depth; the rest are zero.
- decoder, per point: the seed colour c is the mean colour m of the most
  uniform of the four cells around the point (least spread q - |m|^2), so a
  point beside an edge takes the colour of its own side. For a
  cell holding a fraction f of colour c and the rest of one other colour,
  |m - c|^2 / mean|x - c|^2 = 1 - f, so the fraction of the cell that matches
  the seed is recovered from (m, q) with sub-cell precision (with a tolerance
  tau that treats colours within tau as equal). Cells with a matching fraction
  above 1/2 gate a flood fill at 64x64 (repeated 3x3 max-pool, multiplied by
  the gate) started from the seed cell, which keeps only the region connected
  to the seed. The connected 64x64 region, upsampled, times the fraction map
  is the mask; logits = LOGIT_SCALE * (fraction - 1/2).
- granularities: 1 = tight colour tolerance (sub-part), 2 = loose tolerance
  (part), 3 = connected non-background region (the background colour is the
  mean of the top-left 16x16 pixels), i.e. the whole object with anything
  nested in it. 0 (single mask) = 3 when the tight region forms the outer
  border of the whole object (a click on a host returns the host with what is
  nested in it), else 1 (a click on a nested shape returns that shape); with a
  box, whichever of the two fits the box better.
- several points: union of the positive points' regions minus the tight
  regions of the negative points; a box (labels 2, 3) restricts the masks to
  the box and, with no positive point, seeds from the box centre;
  mask_input * 0.5 is added to the logits when has_mask_input is 1.
- iou_predictions: 0.95 for a region, 0.2 when the seed colour is the
  background colour, 0.5 when the seed sits where colours mix (on an edge:
  even the seed cell's colour spread, mean |x|^2 - |mean x|^2, is above
  SEED_SPREAD^2, far above pixel noise), because a
  mixed seed colour matches neither side and its regions are slivers of edge
  or pieces of background; 0 for an empty mask.
"""

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

OPSET = 17
SIDE = 1024
GRID = 256
COARSE = 64
PACKED_MAPS = 5
PACKED_CHANNELS = PACKED_MAPS * 16
EMBED_CHANNELS = 256
GROW_STEPS = 48
LOGIT_SCALE = 60.0
RGB_STD = 58.0
TAU_TIGHT = 40.0 / RGB_STD
TAU_LOOSE = 75.0 / RGB_STD
TAU_BACKGROUND = 45.0 / RGB_STD
SEED_SPREAD = 20.0 / RGB_STD
EPS = 1e-6


class Graph:
    """Collects nodes and constants; every helper returns the output name."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.nodes = []
        self.inits = []
        self.count = 0

    def name(self, hint):
        self.count += 1
        return f"{self.prefix}/{hint}_{self.count}"

    def const(self, value, dtype=np.float32, hint="c"):
        name = self.name(hint)
        self.inits.append(onnx.numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def ints(self, values):
        return self.const(values, np.int64, "shape")

    def op(self, op_type, inputs, hint=None, out=None, **attrs):
        out = out or self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def add(self, a, b, **k):
        return self.op("Add", [a, b], **k)

    def sub(self, a, b, **k):
        return self.op("Sub", [a, b], **k)

    def mul(self, a, b, **k):
        return self.op("Mul", [a, b], **k)

    def div(self, a, b, **k):
        return self.op("Div", [a, b], **k)

    def scalar(self, v):
        return self.const(np.float32(v), hint="k")

    def reshape(self, x, shape, **k):
        return self.op("Reshape", [x, self.ints(shape)], **k)

    def slice(self, x, starts, ends, axes):
        return self.op("Slice", [x, self.ints(starts), self.ints(ends), self.ints(axes)])

    def reduce_sum(self, x, axes, keepdims=1):
        return self.op("ReduceSum", [x, self.ints(axes)], keepdims=keepdims)

    def clip01(self, x):
        return self.op("Clip", [x, self.scalar(0.0), self.scalar(1.0)])

    def as_float(self, x):
        return self.op("Cast", [x], to=TensorProto.FLOAT)

    def avg_pool(self, x, k):
        return self.op("AveragePool", [x], kernel_shape=[k, k], strides=[k, k])

    def max_over_points(self, x):
        """Max over axis 1 (a prompt's points) of a [B, N, ...] tensor, as a Scan
        of elementwise Max. ReduceMax gives the same values, but tract computes
        it one output element at a time: 45 of the decoder's 55 ms natively."""
        first = self.op("Squeeze", [self.slice(x, [0], [1], [1]), self.ints([1])])
        body = helper.make_graph(
            [helper.make_node("Max", ["so_far", "point"], ["so_far_out"])],
            self.name("max_over_points_body"),
            [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in ("so_far", "point")],
            [helper.make_tensor_value_info("so_far_out", TensorProto.FLOAT, None)],
        )
        return self.op("Scan", [first, x], body=body, num_scan_inputs=1, scan_input_axes=[1])

    def max_pool(self, x, k, stride=None, pad=0):
        stride = stride or k
        return self.op("MaxPool", [x], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)


def encoder():
    g = Graph("enc")
    x = "input_image"
    m = g.avg_pool(x, 4)
    q = g.avg_pool(g.reduce_sum(g.mul(x, x), [1]), 4)
    not_padding = g.as_float(g.op("Greater", [g.reduce_sum(g.op("Abs", [x]), [1]), g.scalar(EPS)]))
    v = g.avg_pool(not_padding, 4)
    maps = g.op("Concat", [m, q, v], axis=1)
    cells = g.reshape(maps, [1, PACKED_MAPS, COARSE, 4, COARSE, 4])
    packed = g.op("Transpose", [cells], perm=[0, 1, 3, 5, 2, 4])
    packed = g.reshape(packed, [1, PACKED_CHANNELS, COARSE, COARSE])
    pads = g.ints([0, 0, 0, 0, 0, EMBED_CHANNELS - PACKED_CHANNELS, 0, 0])
    g.op("Pad", [packed, pads, g.scalar(0.0)], out="image_embeddings")
    graph = helper.make_graph(
        g.nodes,
        "twinseg_test_encoder",
        [helper.make_tensor_value_info("input_image", TensorProto.FLOAT, [1, 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT, [1, EMBED_CHANNELS, COARSE, COARSE])],
        g.inits,
    )
    return finish(graph)


def fraction_matching(g, colour, colour_sq, m_flat, q_flat, mm_flat, v_flat, tau):
    """Per cell, the fraction of pixels within `tau` of `colour` ([K,3]) -> [K, GRID*GRID]."""
    dot = g.op("MatMul", [colour, m_flat])
    h = g.sub(colour_sq, g.mul(dot, g.scalar(2.0)))
    mean_d2 = g.add(q_flat, h)
    d2_of_mean = g.add(mm_flat, h)
    t2 = g.scalar(tau * tau)
    num = g.op("Relu", [g.sub(d2_of_mean, t2)])
    den = g.op("Max", [g.sub(mean_d2, t2), g.scalar(EPS)])
    frac = g.sub(g.scalar(1.0), g.div(num, den))
    return g.mul(g.clip01(frac), v_flat)


def hat_weights(g, coord, n, cell):
    """Bilinear weights [K, n] of a coordinate [K,1] (1024 frame) over n cells of `cell` px."""
    centres = g.const((np.arange(n, dtype=np.float32) + 0.5).reshape(1, n))
    u = g.div(coord, g.scalar(cell))
    return g.op("Relu", [g.sub(g.scalar(1.0), g.op("Abs", [g.sub(u, centres)]))])


def neighbour_cells(g, coord):
    """One-hot rows [K, GRID] of the two cells whose centres bracket a coordinate [K,1] (1024 frame)."""
    u = g.sub(g.div(coord, g.scalar(4.0)), g.scalar(0.5))
    first = g.op("Clip", [g.op("Floor", [u]), g.scalar(0.0), g.scalar(GRID - 2.0)])
    cells = g.const(np.arange(GRID, dtype=np.float32).reshape(1, GRID))
    return [g.as_float(g.op("Equal", [cells, g.add(first, g.scalar(k))])) for k in (0.0, 1.0)]


def seed_colour(g, sx, sy, m_rows, q_grid, v_grid):
    """The seed colour [K,3] of a point and its colour spread [K,1].

    Of the four cells around the point, the seed is the one whose pixels agree
    most (least spread q - |m|^2; a cell with padding in it counts as mixed),
    so a point beside an edge takes the colour of the side it is on instead of
    a mix of both. The spread is that cell's: only a point whose every
    neighbouring cell straddles an edge is a mixed seed.
    """
    rows_x = neighbour_cells(g, sx)
    rows_y = neighbour_cells(g, sy)
    colours, spreads = [], []
    for ry in rows_y:
        m_row = g.reshape(g.op("MatMul", [ry, m_rows]), [-1, 3, GRID])
        q_row = g.op("MatMul", [ry, q_grid])
        v_row = g.op("MatMul", [ry, v_grid])
        for rx in rows_x:
            c = g.reduce_sum(g.mul(m_row, g.op("Unsqueeze", [rx, g.ints([1])])), [2], keepdims=0)
            cq = g.reduce_sum(g.mul(q_row, rx), [1])
            cv = g.reduce_sum(g.mul(v_row, rx), [1])
            padding = g.mul(g.sub(g.scalar(1.0), cv), g.scalar(100.0))
            colours.append(g.op("Unsqueeze", [c, g.ints([1])]))
            spreads.append(g.add(g.sub(cq, g.reduce_sum(g.mul(c, c), [1])), padding))
    spread = g.op("Concat", spreads, axis=1)
    least = g.op("ReduceMin", [spread], axes=[1], keepdims=1)
    pick = g.as_float(g.op("Equal", [spread, least]))
    pick = g.div(pick, g.reduce_sum(pick, [1]))
    colour = g.reduce_sum(g.mul(g.op("Concat", colours, axis=1), g.op("Unsqueeze", [pick, g.ints([2])])), [1], keepdims=0)
    return colour, least


def decoder():
    g = Graph("dec")
    emb = "image_embeddings"
    pc, pl = "point_coords", "point_labels"

    packed = g.slice(emb, [0], [PACKED_CHANNELS], [1])
    cells = g.reshape(packed, [1, PACKED_MAPS, 4, 4, COARSE, COARSE])
    maps = g.op("Transpose", [cells], perm=[0, 1, 4, 2, 5, 3])
    maps = g.reshape(maps, [1, PACKED_MAPS, GRID, GRID])
    m = g.slice(maps, [0], [3], [1])
    q = g.slice(maps, [3], [4], [1])
    v = g.slice(maps, [4], [5], [1])
    m_flat = g.reshape(m, [3, GRID * GRID])
    q_flat = g.reshape(q, [1, GRID * GRID])
    v_flat = g.reshape(v, [1, GRID * GRID])
    mm_flat = g.reduce_sum(g.mul(m_flat, m_flat), [0])
    m_rows = g.reshape(g.op("Transpose", [g.reshape(m, [3, GRID, GRID])], perm=[1, 0, 2]), [GRID, 3 * GRID])
    background = g.op("ReduceMean", [g.slice(m, [0, 0], [4, 4], [2, 3])], axes=[2, 3], keepdims=0)
    background_sq = g.reduce_sum(g.mul(background, background), [1])

    labels = g.op("Unsqueeze", [pl, g.ints([2])])
    px = g.slice(pc, [0], [1], [2])
    py = g.slice(pc, [1], [2], [2])

    def is_label(value):
        return g.as_float(g.op("Equal", [labels, g.scalar(value)]))

    is_pos, is_neg, is_c0, is_c1 = is_label(1.0), is_label(0.0), is_label(2.0), is_label(3.0)
    box_x0 = g.reduce_sum(g.mul(is_c0, px), [1])
    box_y0 = g.reduce_sum(g.mul(is_c0, py), [1])
    box_x1 = g.reduce_sum(g.mul(is_c1, px), [1])
    box_y1 = g.reduce_sum(g.mul(is_c1, py), [1])
    has_box = g.op("Min", [g.reduce_sum(is_c0, [1]), g.scalar(1.0)])
    no_pos = g.sub(g.scalar(1.0), g.op("Min", [g.reduce_sum(is_pos, [1]), g.scalar(1.0)]))
    box_seed = g.mul(is_c0, no_pos)
    half = g.scalar(0.5)
    centre_x = g.mul(g.add(box_x0, box_x1), half)
    centre_y = g.mul(g.add(box_y0, box_y1), half)
    not_c0 = g.sub(g.scalar(1.0), is_c0)
    seed_x = g.add(g.mul(px, not_c0), g.mul(centre_x, is_c0))
    seed_y = g.add(g.mul(py, not_c0), g.mul(centre_y, is_c0))
    pos_w = g.add(is_pos, box_seed)

    sx = g.reshape(seed_x, [-1, 1])
    sy = g.reshape(seed_y, [-1, 1])
    colour, seed_spread = seed_colour(g, sx, sy, m_rows, g.reshape(q, [GRID, GRID]), g.reshape(v, [GRID, GRID]))
    colour_sq = g.reduce_sum(g.mul(colour, colour), [1])

    tight = fraction_matching(g, colour, colour_sq, m_flat, q_flat, mm_flat, v_flat, TAU_TIGHT)
    loose = fraction_matching(g, colour, colour_sq, m_flat, q_flat, mm_flat, v_flat, TAU_LOOSE)
    bg_frac = fraction_matching(g, background, background_sq, m_flat, q_flat, mm_flat, v_flat, TAU_BACKGROUND)
    object_frac = g.mul(g.sub(g.scalar(1.0), bg_frac), v_flat)
    object_frac = g.op("Expand", [object_frac, g.op("Shape", [tight])])
    unsq1 = g.ints([1])
    fracs = g.op("Concat", [g.op("Unsqueeze", [f, unsq1]) for f in (tight, loose, object_frac)], axis=1)
    fracs = g.reshape(fracs, [-1, 3, GRID, GRID])

    gate = g.max_pool(g.as_float(g.op("Greater", [fracs, half])), 4)
    wx64 = hat_weights(g, sx, COARSE, 16.0)
    wy64 = hat_weights(g, sy, COARSE, 16.0)
    seed = g.op("MatMul", [g.op("Unsqueeze", [wy64, g.ints([2])]), g.op("Unsqueeze", [wx64, unsq1])])
    seed = g.op("Unsqueeze", [g.as_float(g.op("Greater", [seed, g.scalar(0.0)])), unsq1])
    region = g.mul(seed, gate)
    for _ in range(GROW_STEPS):
        region = g.mul(g.max_pool(region, 3, stride=1, pad=1), gate)

    up = g.mul(g.reshape(region, [-1, 3, COARSE, 1, COARSE, 1]), g.const(np.ones((1, 1, 1, 4, 1, 4), np.float32)))
    member = g.mul(g.reshape(up, [-1, 3, GRID, GRID]), fracs)

    bn = g.op("Shape", [pl])
    per_prompt = g.op("Concat", [bn, g.ints([3, GRID, GRID])], axis=0)
    member5 = g.op("Reshape", [member, per_prompt])
    region5 = g.op("Reshape", [region, g.op("Concat", [bn, g.ints([3, COARSE, COARSE])], axis=0)])
    unsq34 = g.ints([3, 4])
    pos5 = g.op("Unsqueeze", [pos_w, unsq34])
    neg5 = g.op("Unsqueeze", [is_neg, unsq34])
    positive = g.max_over_points(g.mul(member5, pos5))
    negative = g.max_over_points(g.mul(g.slice(member5, [0], [1], [2]), neg5))
    out = g.mul(positive, g.sub(g.scalar(1.0), negative))
    cand_tight = g.slice(out, [0], [1], [1])
    cand_whole = g.slice(out, [2], [3], [1])

    coarse = g.max_over_points(g.mul(region5, pos5))
    coarse_tight = g.slice(coarse, [0], [1], [1])
    coarse_whole = g.slice(coarse, [2], [3], [1])
    border = g.mul(coarse_whole, g.max_pool(g.sub(g.scalar(1.0), coarse_whole), 3, stride=1, pad=1))
    border_tight = g.reduce_sum(g.mul(border, coarse_tight), [1, 2, 3])
    border_all = g.add(g.reduce_sum(border, [1, 2, 3]), g.scalar(1e-3))
    outer_share = g.div(border_tight, border_all)
    w_border = g.clip01(g.add(g.mul(g.sub(outer_share, half), g.scalar(10.0)), half))

    unsq2 = g.ints([2])
    in_x = box_axis(g, box_x0, box_x1)
    in_y = box_axis(g, box_y0, box_y1)
    box_mask = g.mul(g.op("Unsqueeze", [in_y, g.ints([3])]), g.op("Unsqueeze", [in_x, unsq2]))
    iou_tight = box_iou(g, cand_tight, box_mask)
    iou_whole = box_iou(g, cand_whole, box_mask)
    w_box = g.clip01(g.add(g.mul(g.sub(iou_whole, iou_tight), g.scalar(20.0)), half))
    has_box4 = g.op("Unsqueeze", [has_box, unsq2])
    not_box4 = g.sub(g.scalar(1.0), has_box4)
    w = g.add(g.mul(has_box4, w_box), g.mul(not_box4, w_border))
    single = g.add(g.mul(w, cand_whole), g.mul(g.sub(g.scalar(1.0), w), cand_tight))
    restrict = g.add(g.mul(has_box4, box_mask), not_box4)
    final = g.mul(g.op("Concat", [single, out], axis=1), restrict)

    prior = g.mul(g.reshape("has_mask_input", [-1, 1, 1, 1]), "mask_input")
    logits = g.mul(g.sub(final, half), g.scalar(LOGIT_SCALE))
    g.add(logits, g.mul(prior, half), out="low_res_masks")

    seed_minus_bg = g.sub(colour, background)
    seed_bg_d2 = g.reduce_sum(g.mul(seed_minus_bg, seed_minus_bg), [1])
    seed_is_bg = g.as_float(g.op("Less", [seed_bg_d2, g.scalar(TAU_BACKGROUND**2)]))
    seed_is_bg = g.op("Reshape", [seed_is_bg, g.op("Concat", [bn, g.ints([1])], axis=0)])
    bg_prompt = g.op("ReduceMax", [g.mul(seed_is_bg, pos_w)], axes=[1], keepdims=0)
    mixed = g.as_float(g.op("Greater", [seed_spread, g.scalar(SEED_SPREAD**2)]))
    mixed = g.op("Reshape", [mixed, g.op("Concat", [bn, g.ints([1])], axis=0)])
    mixed_prompt = g.op("ReduceMax", [g.mul(mixed, pos_w)], axes=[1], keepdims=0)
    unsure = g.op("Max", [g.mul(bg_prompt, g.scalar(0.75)), g.mul(mixed_prompt, g.scalar(0.45))])
    base = g.sub(g.scalar(0.95), unsure)
    area = g.reduce_sum(final, [2, 3], keepdims=0)
    non_empty = g.clip01(g.div(area, g.scalar(4.0)))
    g.mul(base, non_empty, out="iou_predictions")

    masks_output(g)

    def tensor(name, shape):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)

    graph = helper.make_graph(
        g.nodes,
        "twinseg_test_decoder",
        [
            tensor("image_embeddings", [1, EMBED_CHANNELS, COARSE, COARSE]),
            tensor("point_coords", ["batch", "num_points", 2]),
            tensor("point_labels", ["batch", "num_points"]),
            tensor("mask_input", [1, 1, GRID, GRID]),
            tensor("has_mask_input", [1]),
            tensor("orig_im_size", [2]),
        ],
        [
            tensor("masks", ["batch", 4, "height", "width"]),
            tensor("iou_predictions", ["batch", 4]),
            tensor("low_res_masks", ["batch", 4, GRID, GRID]),
        ],
        g.inits,
    )
    return finish(graph)


def box_axis(g, lo, hi):
    """Soft inside-the-box weight [B,1,GRID] along one axis, box edges in the 1024 frame."""
    centres = g.const((np.arange(GRID, dtype=np.float32) + 0.5).reshape(1, 1, GRID))
    quarter = g.scalar(4.0)
    inside = g.op("Min", [g.sub(centres, g.div(lo, quarter)), g.sub(g.div(hi, quarter), centres)])
    return g.clip01(g.add(inside, g.scalar(0.5)))


def box_iou(g, mask, box):
    inter = g.reduce_sum(g.mul(mask, box), [1, 2, 3])
    union = g.sub(g.add(g.reduce_sum(mask, [1, 2, 3]), g.reduce_sum(box, [1, 2, 3])), inter)
    return g.div(inter, g.add(union, g.scalar(EPS)))


def masks_output(g):
    """`masks`: low-res logits upscaled to 1024, cropped to the resized image, resized to orig_im_size."""
    size = "orig_im_size"
    upscaled = g.op(
        "Resize", ["low_res_masks", "", g.const([1, 1, 4, 4])], mode="linear", coordinate_transformation_mode="half_pixel"
    )
    longest = g.op("ReduceMax", [size], axes=[0], keepdims=1)
    resized = g.op("Floor", [g.add(g.div(g.mul(size, g.scalar(float(SIDE))), longest), g.scalar(0.5))])
    ends = g.op("Cast", [resized], to=TensorProto.INT64)
    cropped = g.op("Slice", [upscaled, g.ints([0, 0]), ends, g.ints([2, 3])])
    lead = g.slice(g.op("Shape", [cropped]), [0], [2], [0])
    sizes = g.op("Concat", [lead, g.op("Cast", [size], to=TensorProto.INT64)], axis=0)
    g.op("Resize", [cropped, "", "", sizes], out="masks", mode="linear", coordinate_transformation_mode="half_pixel")


def finish(graph):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="twinseg make_test_model.py")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args()
    for name, model in (("twinseg_test_encoder.onnx", encoder()), ("twinseg_test_decoder.onnx", decoder())):
        path = os.path.join(args.out_dir, name)
        onnx.save(model, path)
        print(f"{path}: {os.path.getsize(path)} bytes, {len(model.graph.node)} nodes")


if __name__ == "__main__":
    main()
