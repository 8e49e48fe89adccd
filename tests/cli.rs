//! The `twinseg` binary end to end on generated scenes: `segment`, `ask`
//! (embedded, and `--reasoner openai` against a local OpenAI-compatible
//! server on 127.0.0.1), `eval`, `export-sft`, and clear failures on bad input.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

use twinseg::compose::compose;
use twinseg::dataset::{self, Sample};
use twinseg::eval::Scores;
use twinseg::hierarchy::{self, HierarchySettings};
use twinseg::mask::Mask;
use twinseg::model::SamModel;
use twinseg::proposals::{self, Control, ProposalSettings};
use twinseg::reason::remote::answer::parse_answer;
use twinseg::scenes;
use twinseg::twin::{self, TwinInput};

/// Proposal grid of the runs whose answers are checked: small, so the file
/// stays fast (every prompt costs a decoder run), yet fine enough to find the
/// objects these scenes ask about.
const POINTS_PER_SIDE: &str = "8";
/// Proposal grid of the runs that check errors and bookkeeping, not answers.
const COARSE_GRID: &str = "4";
const SECRET: &str = "sk-cli-test-secret-4242";

fn twinseg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinseg"))
        .args(args)
        .env_remove("OPENAI_API_KEY")
        .env("TWINSEG_CLI_TEST_KEY", SECRET)
        .output()
        .expect("the twinseg binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Six generated samples, written once by `twinseg scenes`.
fn scene_set() -> &'static (PathBuf, Vec<Sample>) {
    static SET: OnceLock<(PathBuf, Vec<Sample>)> = OnceLock::new();
    SET.get_or_init(|| {
        let dir = scratch("scenes");
        let out = twinseg(&[
            "scenes",
            dir.to_str().expect("utf-8"),
            "--n",
            "6",
            "--seed",
            "0",
        ]);
        assert!(out.status.success(), "scenes: {}", text(&out.stderr));
        let samples = dataset::load_dir(&dir).expect("the written set loads");
        (dir, samples)
    })
}

fn sample(prefix: &str) -> &'static Sample {
    scene_set()
        .1
        .iter()
        .find(|s| s.name.starts_with(prefix))
        .expect("sample of the generated set")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn read_mask(path: &Path) -> Mask {
    let grey = image::open(path).expect("mask PNG").to_luma8();
    assert!(
        grey.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255),
        "masks are 255/0"
    );
    Mask::from_gray_image(&grey)
}

fn iou_with_truth(mask: &Mask, sample: &Sample) -> f64 {
    let truth = sample.ground_truth();
    assert_eq!(
        (mask.width(), mask.height()),
        (sample.width, sample.height),
        "the mask has the image's size"
    );
    mask.iou(&truth.target)
}

/// A pixel deep inside object `id` of the scene (and outside anything nested in it).
fn inner_point(scene: &scenes::Scene, id: usize) -> (u32, u32) {
    let own = &scene.objects[id].mask;
    let mut best = (0, 0, 0);
    for y in (0..own.height()).step_by(2) {
        for x in (0..own.width()).step_by(2) {
            let depth = (0..60)
                .take_while(|&r| {
                    own.get(x + r, y)
                        && own.get(x.saturating_sub(r), y)
                        && own.get(x, y + r)
                        && own.get(x, y.saturating_sub(r))
                })
                .count();
            if depth > best.2 {
                best = (x, y, depth);
            }
        }
    }
    (best.0, best.1)
}

#[test]
fn segment_with_a_point_returns_that_object() {
    let sample = sample("scene_00000");
    let scene = scenes::generate(sample.annotation.scene_seed.expect("generated"));
    let object = scene
        .objects
        .iter()
        .find(|o| scene.children(o.id).is_empty())
        .expect("an object without nested shapes");
    let (x, y) = inner_point(&scene, object.id);
    let out_path = scratch("segment").join("mask.png");
    let out = twinseg(&[
        "segment",
        path_str(&sample.image_path),
        "--point",
        &format!("{x},{y}"),
        "--out",
        path_str(&out_path),
    ]);
    assert!(out.status.success(), "segment: {}", text(&out.stderr));
    let iou = read_mask(&out_path).iou(&object.mask);
    assert!(
        iou >= 0.9,
        "IoU {iou} with the {} {}",
        object.colour,
        object.shape.name()
    );
}

#[test]
fn ask_embedded_answers_a_generated_query() {
    let sample = sample("scene_00001");
    let query = &sample.queries()[0];
    let out_path = scratch("ask-embedded").join("answer.png");
    let out = twinseg(&[
        "ask",
        path_str(&sample.image_path),
        query,
        "--out",
        path_str(&out_path),
        "--points-per-side",
        POINTS_PER_SIDE,
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "ask: {}{stdout}", text(&out.stderr));
    assert!(stdout.lines().any(|l| l.starts_with("step: ")), "{stdout}");
    assert!(
        stdout
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("ids: ")),
        "{stdout}"
    );
    let iou = iou_with_truth(&read_mask(&out_path), sample);
    assert!(iou >= 0.9, "{query:?}: IoU {iou}; {stdout}");
}

#[test]
fn ask_with_nothing_fitting_writes_an_empty_mask_and_exits_3() {
    let sample = sample("scene_00003");
    let out_path = scratch("ask-none").join("answer.png");
    let out = twinseg(&[
        "ask",
        path_str(&sample.image_path),
        "the purple giraffe",
        "--out",
        path_str(&out_path),
        "--points-per-side",
        COARSE_GRID,
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("none: ")),
        "{stdout}"
    );
    assert!(read_mask(&out_path).is_empty());
}

/// One request the mock server received: lower-cased headers and body.
#[derive(Clone, Debug)]
struct Recorded {
    headers: Vec<(String, String)>,
    body: String,
}

type Log = Arc<Mutex<Vec<Recorded>>>;

/// An OpenAI-compatible server on 127.0.0.1 that records every request and
/// answers each with `reply(request) -> (status, body)`.
fn serve(reply: impl Fn(&Recorded) -> (u16, String) + Send + 'static) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let address = format!("http://{}/v1", listener.local_addr().expect("address"));
    let log: Log = Arc::default();
    let record = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let request = read_request(&mut stream);
            let (status, body) = reply(&request);
            record.lock().expect("log").push(request);
            let response = format!(
                "HTTP/1.1 {status} Mock\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (address, log)
}

fn read_request(stream: &mut std::net::TcpStream) -> Recorded {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut headers = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
        if let Some((name, value)) = line.trim_end().split_once(':') {
            headers.push((name.trim().to_lowercase(), value.trim().to_string()));
        }
        line.clear();
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    Recorded {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn chat_reply(content: &str) -> String {
    serde_json::json!({"choices": [{"message": {"role": "assistant", "content": content}}]})
        .to_string()
}

/// Plays a model that reads the compact twin: the ids of the rows whose
/// first colour is `colour` and whose shape is `shape`.
fn ids_of(request: &Recorded, colour: &str, shape: &str) -> Vec<u32> {
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
    let user = body["messages"][1]["content"].as_str().unwrap_or_default();
    user.lines()
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let first_colour = columns.get(7)?.split('/').next()?;
            (first_colour == colour && columns.get(8) == Some(&shape))
                .then(|| columns[0].parse().ok())?
        })
        .collect()
}

fn ask_remote(sample: &Sample, query: &str, endpoint: &str, out: &Path, grid: &str) -> Output {
    twinseg(&[
        "ask",
        path_str(&sample.image_path),
        query,
        "--out",
        path_str(out),
        "--points-per-side",
        grid,
        "--reasoner",
        "openai",
        "--endpoint",
        endpoint,
        "--model",
        "mock-model",
        "--api-key-env",
        "TWINSEG_CLI_TEST_KEY",
        "--timeout",
        "5",
    ])
}

#[test]
fn ask_openai_against_a_local_server_answers_and_sends_only_the_twin() {
    let sample = sample("scene_00002");
    let query = &sample.queries()[0];
    assert_eq!(query, "the pink hexagon", "the generated set changed");
    let (endpoint, log) = serve(|request| {
        let ids = ids_of(request, "pink", "hexagon");
        let answer = serde_json::json!({"steps": ["Pink hexagons: kept."], "ids": ids});
        (200, chat_reply(&format!("Sure:\n```json\n{answer}\n```")))
    });
    let out_path = scratch("ask-openai").join("answer.png");
    let out = ask_remote(sample, query, &endpoint, &out_path, POINTS_PER_SIDE);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "ask: {stderr}{stdout}");
    assert!(stdout.contains("step: Pink hexagons: kept."), "{stdout}");
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    let iou = iou_with_truth(&read_mask(&out_path), sample);
    assert!(iou >= 0.9, "IoU {iou}; {stdout}");
    let requests = log.lock().expect("log").clone();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert!(request
        .headers
        .contains(&("authorization".to_string(), format!("Bearer {SECRET}"))));
    let body: serde_json::Value = serde_json::from_str(&request.body).expect("JSON request");
    assert_eq!(body["model"], "mock-model");
    let user = body["messages"][1]["content"]
        .as_str()
        .expect("user message");
    assert!(
        user.contains("twin v1 image") && user.contains(query.as_str()),
        "{user}"
    );
    assert!(!request.body.contains("base64") && !request.body.contains("image_url"));
}

fn assert_one_clear_error(out: &Output, expected: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains(expected), "{stderr}");
    assert!(!stderr.contains(SECRET) && !text(&out.stdout).contains(SECRET));
}

#[test]
fn remote_failures_are_one_clear_sentence_without_the_key() {
    let sample = sample("scene_00000");
    let out_path = scratch("ask-openai-errors").join("answer.png");
    let (failing, _) = serve(|_| (500, r#"{"error": {"message": "boom"}}"#.to_string()));
    let out = ask_remote(sample, "the black object", &failing, &out_path, COARSE_GRID);
    assert_one_clear_error(&out, "kept failing after 4 attempts (last: HTTP 500: ");
    assert!(!out_path.exists(), "no mask on error");

    let (garbage, _) = serve(|_| (200, chat_reply("I think it is the dark one.")));
    let out = ask_remote(sample, "the black object", &garbage, &out_path, COARSE_GRID);
    assert_one_clear_error(&out, "holds no JSON object");

    let (refusing, _) = serve(|_| (401, r#"{"error": "bad key"}"#.to_string()));
    let out = ask_remote(
        sample,
        "the black object",
        &refusing,
        &out_path,
        COARSE_GRID,
    );
    assert_one_clear_error(&out, "unauthorised");

    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/v1", listener.local_addr().expect("address"))
    };
    let out = ask_remote(sample, "the black object", &closed, &out_path, COARSE_GRID);
    assert_one_clear_error(&out, "could not reach the endpoint");
}

#[test]
fn eval_prints_figures_that_match_a_recomputation() {
    let (dir, samples) = scene_set();
    let subset = scratch("eval-set");
    for sample in samples.iter().take(4) {
        for path in [&sample.image_path, &sample.json_path] {
            let name = path.file_name().expect("file name");
            std::fs::copy(path, subset.join(name)).expect("copy sample");
        }
    }
    let preds = scratch("eval-preds");
    let out = twinseg(&[
        "eval",
        path_str(&subset),
        "--pred-out",
        path_str(&preds),
        "--points-per-side",
        COARSE_GRID,
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "eval: {}", text(&out.stderr));
    let last = stdout.lines().last().expect("a final line");
    let figures: Vec<(&str, &str)> = last
        .split_whitespace()
        .filter_map(|field| field.split_once('='))
        .collect();
    assert_eq!(
        figures.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        ["gIoU", "cIoU", "n"],
        "{last}"
    );
    let mut scores = Scores::new();
    for sample in dataset::load_dir(&subset).expect("subset loads") {
        assert!(dir.join(format!("{}.json", sample.name)).exists());
        let predicted = read_mask(&preds.join(format!("{}.png", sample.name)));
        let truth = sample.ground_truth();
        scores
            .add_prediction(
                sample.query_type(),
                &predicted,
                &truth.target,
                &truth.ignore,
            )
            .expect("sizes match");
    }
    assert_eq!(last, scores.summary_line());
    assert_eq!(figures[2].1, "4");
}

/// The segments and twin of an image, computed as the CLI does.
fn perceive(sample: &Sample) -> (twin::DigitalTwin, Vec<Mask>) {
    let model = SamModel::builtin().expect("built-in model");
    let image = twinseg::image_io::decode(&std::fs::read(&sample.image_path).expect("image"))
        .expect("decodes");
    let settings = ProposalSettings {
        points_per_side: POINTS_PER_SIDE.parse().expect("number"),
        ..ProposalSettings::default()
    };
    let set =
        proposals::run_image(&model, &image, &settings, |_| Control::Continue).expect("proposals");
    let segments = hierarchy::build(set.proposals, &HierarchySettings::default());
    let twin = twin::build(&image, &TwinInput::from_segments(&segments));
    (twin, segments.into_iter().map(|s| s.mask).collect())
}

#[test]
fn export_sft_examples_reproduce_the_ground_truth() {
    let sample = sample("scene_00002");
    let single = scratch("sft-set");
    for path in [&sample.image_path, &sample.json_path] {
        std::fs::copy(path, single.join(path.file_name().expect("name"))).expect("copy");
    }
    let jsonl = scratch("sft-out").join("train.jsonl");
    let out = twinseg(&[
        "export-sft",
        path_str(&single),
        "--out",
        path_str(&jsonl),
        "--points-per-side",
        POINTS_PER_SIDE,
    ]);
    assert!(out.status.success(), "export-sft: {}", text(&out.stderr));
    let (twin, masks) = perceive(sample);
    let known: Vec<u32> = twin.objects.iter().map(|o| o.id).collect();
    let lines: Vec<String> = std::fs::read_to_string(&jsonl)
        .expect("written")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), sample.queries().len(), "one example per query");
    for (line, query) in lines.iter().zip(sample.queries()) {
        let example: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let messages = example["messages"].as_array().expect("messages");
        let roles: Vec<&str> = messages.iter().filter_map(|m| m["role"].as_str()).collect();
        assert_eq!(roles, ["system", "user", "assistant"]);
        let user = messages[1]["content"].as_str().expect("user text");
        assert!(user.contains(twin.compact().trim_end()) && user.contains(query.as_str()));
        let answer = parse_answer(messages[2]["content"].as_str().expect("answer"), &known)
            .expect("the answer parses like a model's");
        assert!(!answer.steps.is_empty());
        let mask = compose(&twin, &masks, &answer.ids).expect("ids compose");
        let iou = iou_with_truth(&mask, sample);
        assert!(iou >= 0.9, "{query:?}: ids {:?} give IoU {iou}", answer.ids);
    }
}

#[test]
fn bad_inputs_fail_with_one_sentence() {
    let dir = scratch("bad-inputs");
    let out_path = dir.join("mask.png");
    let out_str = path_str(&out_path);
    let missing = dir.join("missing.png");
    let out = twinseg(&[
        "segment",
        path_str(&missing),
        "--point",
        "1,1",
        "--out",
        out_str,
    ]);
    assert_one_clear_error(&out, "cannot read image");

    let corrupt = dir.join("corrupt.png");
    std::fs::write(&corrupt, b"\x89PNG\r\n\x1a\nthis is not a picture").expect("write");
    let out = twinseg(&["ask", path_str(&corrupt), "the red one", "--out", out_str]);
    assert_one_clear_error(&out, "cannot decode image");

    let image = &sample("scene_00000").image_path;
    let out = twinseg(&[
        "segment",
        path_str(image),
        "--point",
        "1;2",
        "--out",
        out_str,
    ]);
    assert_eq!(out.status.code(), Some(2), "clap's usage error code");
    let stderr = text(&out.stderr);
    assert!(stderr
        .lines()
        .next()
        .is_some_and(|l| l.starts_with("error:") && l.contains("X,Y")));

    let out = twinseg(&[
        "segment",
        path_str(image),
        "--point",
        "99999,2",
        "--out",
        out_str,
    ]);
    assert_one_clear_error(&out, "lies outside the");
    let out = twinseg(&["segment", path_str(image), "--out", out_str]);
    assert_one_clear_error(&out, "give at least one --point");
    let out = twinseg(&["eval", path_str(&dir)]);
    assert_one_clear_error(&out, "holds no ReasonSeg samples");
    assert!(!out_path.exists());
}
