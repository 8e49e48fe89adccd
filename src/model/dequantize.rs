//! Int8 weights, f32 arithmetic: rewrites the dynamic quantization that
//! `onnxruntime.quantization.quantize_dynamic` writes back into f32 `MatMul`
//! and `Conv` with the weights dequantized once, at load.
//!
//! Why: the int8 files are the small download people use, but tract runs
//! their `DynamicQuantizeLinear` + `MatMulInteger`/`ConvInteger` path several
//! times slower than the f32 graph. quantize_dynamic writes every quantized
//! product as
//!
//! ```text
//! x_q, x_scale, x_zp = DynamicQuantizeLinear(x)
//! y_i = MatMulInteger(x_q, W_q, x_zp, W_zp)      (or ConvInteger)
//! y   = Mul(Cast<f32>(y_i), Mul(x_scale, W_scale))
//! ```
//!
//! which becomes `y = MatMul(x, (W_q - W_zp) * W_scale)`: the weights keep
//! their int8 rounding, the activations are no longer rounded (closer to the
//! f32 model than onnxruntime's int8 arithmetic). Only per-tensor weight
//! scales and zero points (quantize_dynamic's default) are rewritten;
//! anything else is left for tract as it is.

use std::collections::{HashMap, HashSet};

use tract_onnx::pb;

const FLOAT: i32 = 1;
const UINT8: i32 = 2;
const INT8: i32 = 3;

/// Where each value comes from and who reads it.
struct Index<'g> {
    producer: HashMap<&'g str, usize>,
    consumers: HashMap<&'g str, Vec<usize>>,
    initializer: HashMap<&'g str, usize>,
}

impl<'g> Index<'g> {
    fn of(graph: &'g pb::GraphProto) -> Self {
        let mut producer = HashMap::new();
        let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, node) in graph.node.iter().enumerate() {
            for output in &node.output {
                producer.insert(output.as_str(), i);
            }
            for input in node.input.iter().filter(|s| !s.is_empty()) {
                consumers.entry(input.as_str()).or_default().push(i);
            }
        }
        let initializer = graph
            .initializer
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.as_str(), i))
            .collect();
        Self {
            producer,
            consumers,
            initializer,
        }
    }

    fn only_consumer(&self, name: &str) -> Option<usize> {
        match self.consumers.get(name).map(Vec::as_slice) {
            Some([one]) => Some(*one),
            _ => None,
        }
    }
}

/// One quantized product found in the graph.
struct Site {
    product: usize,
    cast: usize,
    scale_mul: usize,
    input: String,
    weights: pb::TensorProto,
}

/// Rewrites every quantized `MatMulInteger` / `ConvInteger` with constant
/// weights into its f32 form and drops what no longer feeds anything.
/// Returns how many products were rewritten.
pub(crate) fn dequantize_weights(graph: &mut pb::GraphProto) -> usize {
    let sites: Vec<Site> = {
        let index = Index::of(graph);
        (0..graph.node.len())
            .filter_map(|i| find_site(graph, &index, i))
            .collect()
    };
    if sites.is_empty() {
        return 0;
    }
    let count = sites.len();
    let mut replace: HashMap<usize, pb::NodeProto> = HashMap::new();
    let mut drop: HashSet<usize> = HashSet::new();
    for site in &sites {
        let node = &graph.node[site.product];
        let output = graph.node[site.scale_mul].output[0].clone();
        replace.insert(
            site.product,
            pb::NodeProto {
                name: format!("{}/f32", node.name),
                op_type: if node.op_type == "ConvInteger" {
                    "Conv"
                } else {
                    "MatMul"
                }
                .to_string(),
                input: vec![site.input.clone(), site.weights.name.clone()],
                output: vec![output],
                attribute: node.attribute.clone(),
                ..Default::default()
            },
        );
        drop.extend([site.cast, site.scale_mul]);
    }
    let nodes = std::mem::take(&mut graph.node);
    graph.node = nodes
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !drop.contains(i))
        .map(|(i, node)| replace.remove(&i).unwrap_or(node))
        .collect();
    graph
        .initializer
        .extend(sites.into_iter().map(|site| site.weights));
    prune_dead(graph);
    count
}

/// Recognises the quantize_dynamic pattern around node `i`.
fn find_site(graph: &pb::GraphProto, index: &Index, i: usize) -> Option<Site> {
    let node = &graph.node[i];
    if !node.domain.is_empty() || !matches!(node.op_type.as_str(), "MatMulInteger" | "ConvInteger")
    {
        return None;
    }
    let quantize = &graph.node[*index.producer.get(node.input.first()?.as_str())?];
    if quantize.op_type != "DynamicQuantizeLinear" || quantize.output.len() < 2 {
        return None;
    }
    let cast = index.only_consumer(&node.output[0])?;
    let cast_node = &graph.node[cast];
    let to_float = cast_node
        .attribute
        .iter()
        .any(|a| a.name == "to" && a.i == i64::from(FLOAT));
    if cast_node.op_type != "Cast" || !to_float {
        return None;
    }
    let scale_mul = index.only_consumer(&cast_node.output[0])?;
    let scale_node = &graph.node[scale_mul];
    if scale_node.op_type != "Mul" || scale_node.input.len() != 2 {
        return None;
    }
    let scales = scale_node
        .input
        .iter()
        .find(|s| **s != cast_node.output[0])?;
    let scales_node = &graph.node[*index.producer.get(scales.as_str())?];
    if scales_node.op_type != "Mul" || !scales_node.input.contains(&quantize.output[1]) {
        return None;
    }
    let weight_scale = scales_node
        .input
        .iter()
        .find(|s| **s != quantize.output[1])?;
    let initializer = |name: &str| index.initializer.get(name).map(|&k| &graph.initializer[k]);
    let scale = single(&float_values(initializer(weight_scale)?)?)?;
    let zero_point = match node.input.get(3).filter(|s| !s.is_empty()) {
        Some(name) => single(&int_values(initializer(name)?)?)?,
        None => 0,
    };
    let quantized = initializer(node.input.get(1)?)?;
    let weights = int_values(quantized)?
        .into_iter()
        .map(|q| (q - zero_point) as f32 * scale)
        .collect();
    Some(Site {
        product: i,
        cast,
        scale_mul,
        input: quantize.input.first()?.clone(),
        weights: pb::TensorProto {
            name: format!("{}/dequantized", quantized.name),
            dims: quantized.dims.clone(),
            data_type: FLOAT,
            float_data: weights,
            ..Default::default()
        },
    })
}

fn single<T: Copy>(values: &[T]) -> Option<T> {
    match values {
        [one] => Some(*one),
        _ => None,
    }
}

/// The values of a uint8 / int8 initializer.
fn int_values(tensor: &pb::TensorProto) -> Option<Vec<i32>> {
    let raw = !tensor.raw_data.is_empty();
    match tensor.data_type {
        UINT8 if raw => Some(tensor.raw_data.iter().map(|&b| i32::from(b)).collect()),
        INT8 if raw => Some(
            tensor
                .raw_data
                .iter()
                .map(|&b| i32::from(b as i8))
                .collect(),
        ),
        UINT8 | INT8 => Some(tensor.int32_data.clone()),
        _ => None,
    }
}

/// The values of a float initializer.
fn float_values(tensor: &pb::TensorProto) -> Option<Vec<f32>> {
    if tensor.data_type != FLOAT {
        return None;
    }
    if tensor.raw_data.is_empty() {
        return Some(tensor.float_data.clone());
    }
    Some(
        tensor
            .raw_data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// Drops nodes whose outputs nothing reads, then unread initializers.
fn prune_dead(graph: &mut pb::GraphProto) {
    loop {
        let used = used_names(graph);
        let before = graph.node.len();
        graph
            .node
            .retain(|n| n.output.iter().any(|o| used.contains(o.as_str())));
        if graph.node.len() == before {
            break;
        }
    }
    let used = used_names(graph);
    let inputs: HashSet<String> = graph.input.iter().map(|i| i.name.clone()).collect();
    graph
        .initializer
        .retain(|t| used.contains(t.name.as_str()) || inputs.contains(&t.name));
}

fn used_names(graph: &pb::GraphProto) -> HashSet<String> {
    graph
        .node
        .iter()
        .flat_map(|n| n.input.iter().cloned())
        .chain(graph.output.iter().map(|o| o.name.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(op: &str, inputs: &[&str], outputs: &[&str]) -> pb::NodeProto {
        pb::NodeProto {
            op_type: op.into(),
            name: outputs[0].into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn quantized_matmul_graph() -> pb::GraphProto {
        let mut cast = node("Cast", &["y_i"], &["y_f"]);
        cast.attribute.push(pb::AttributeProto {
            name: "to".into(),
            r#type: 2,
            i: 1,
            ..Default::default()
        });
        pb::GraphProto {
            node: vec![
                node("DynamicQuantizeLinear", &["x"], &["x_q", "x_s", "x_zp"]),
                node("MatMulInteger", &["x_q", "w_q", "x_zp", "w_zp"], &["y_i"]),
                cast,
                node("Mul", &["x_s", "w_s"], &["s"]),
                node("Mul", &["y_f", "s"], &["y"]),
                node("Relu", &["y"], &["out"]),
            ],
            initializer: vec![
                pb::TensorProto {
                    name: "w_q".into(),
                    dims: vec![2, 2],
                    data_type: UINT8,
                    raw_data: vec![0, 128, 200, 255],
                    ..Default::default()
                },
                pb::TensorProto {
                    name: "w_zp".into(),
                    data_type: UINT8,
                    raw_data: vec![128],
                    ..Default::default()
                },
                pb::TensorProto {
                    name: "w_s".into(),
                    data_type: FLOAT,
                    float_data: vec![0.5],
                    ..Default::default()
                },
            ],
            output: vec![pb::ValueInfoProto {
                name: "out".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_quantized_matmul_becomes_an_f32_matmul_on_dequantized_weights() {
        let mut graph = quantized_matmul_graph();
        assert_eq!(dequantize_weights(&mut graph), 1);
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["MatMul", "Relu"]);
        assert_eq!(graph.node[0].input[0], "x");
        assert_eq!(graph.node[0].output, vec!["y".to_string()]);
        let weights = graph
            .initializer
            .iter()
            .find(|t| t.name == graph.node[0].input[1])
            .expect("the dequantized weights");
        assert_eq!(weights.float_data, vec![-64.0, 0.0, 36.0, 63.5]);
        assert_eq!(weights.dims, vec![2, 2]);
        assert_eq!(graph.initializer.len(), 1, "the int8 weights are dropped");
    }

    #[test]
    fn per_channel_scales_are_left_alone() {
        let mut graph = quantized_matmul_graph();
        graph.initializer[2].float_data = vec![0.5, 0.25];
        assert_eq!(dequantize_weights(&mut graph), 0);
        assert!(graph.node.iter().any(|n| n.op_type == "MatMulInteger"));
    }
}
