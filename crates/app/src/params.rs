//! Start-up settings from the page's address, so another page can embed the
//! app already set up: `?image=URL&model=ENCODER_URL,DECODER_URL&query=TEXT`
//! (or `encoder=` and `decoder=` instead of `model=`), and `embed=1` for a
//! compact layout. The image address is fetched by this page only; nothing
//! of the embedding page is read or sent anywhere.

use leptos::prelude::*;
use leptos::task::spawn_local;
use twinseg::protocol::{ModelChoice, Stage};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, Response, Url, UrlSearchParams};

use crate::app::AppState;
use crate::worker::describe;

/// What the address asks for; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartParams {
    /// An image to open at start, as an absolute http(s) address.
    pub image: Option<String>,
    /// A model to load at start.
    pub model: Option<ModelChoice>,
    /// A question to put in the query field.
    pub query: Option<String>,
    /// Whether to use the compact layout for iframes.
    pub embed: bool,
    /// How many threads the model should use (1: none besides the worker);
    /// by default one per core where the page is cross-origin isolated.
    pub threads: Option<usize>,
    /// Whether to keep to plain wasm SIMD (`simd=plain`) even where the
    /// browser has relaxed SIMD: slower, but every browser and machine then
    /// computes bit for bit the same masks and scores.
    pub plain_simd: bool,
    /// Parameters that were given but could not be used, in words.
    pub problems: Vec<String>,
}

impl StartParams {
    /// Reads the current page's address; an unreadable one gives defaults.
    pub fn from_location() -> Self {
        let Some(location) = web_sys::window().map(|window| window.location()) else {
            return Self::default();
        };
        let (Ok(search), Ok(base)) = (location.search(), location.href()) else {
            return Self::default();
        };
        let Ok(query) = UrlSearchParams::new_with_str(&search) else {
            return Self::default();
        };
        let pairs = js_sys::try_iter(&query)
            .ok()
            .flatten()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| {
                let entry: js_sys::Array = entry.dyn_into().ok()?;
                Some((entry.get(0).as_string()?, entry.get(1).as_string()?))
            });
        Self::from_pairs(pairs, |address| resolve(address, &base))
    }

    /// Builds the settings from decoded `(name, value)` pairs; `resolve`
    /// turns an address into an absolute http(s) one, or says why it cannot.
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
        resolve: impl Fn(&str) -> Result<String, String>,
    ) -> Self {
        let mut params = Self::default();
        let (mut model, mut encoder, mut decoder) = (None, None, None);
        for (name, value) in pairs {
            let value = value.trim().to_string();
            match name.as_str() {
                "image" if !value.is_empty() => match resolve(&value) {
                    Ok(address) => params.image = Some(address),
                    Err(why) => params.problems.push(format!("The image address {why}.")),
                },
                "query" if !value.is_empty() => params.query = Some(value),
                "embed" => params.embed = !matches!(value.as_str(), "0" | "false" | "no"),
                "threads" => match value.parse::<usize>() {
                    Ok(threads) if threads >= 1 => params.threads = Some(threads),
                    _ => params.problems.push(format!(
                        "The threads parameter must be a whole number of at least 1, not \"{value}\"."
                    )),
                },
                "simd" => match value.as_str() {
                    "plain" => params.plain_simd = true,
                    "relaxed" => params.plain_simd = false,
                    _ => params.problems.push(format!(
                        "The simd parameter must be \"plain\" or \"relaxed\", not \"{value}\"."
                    )),
                },
                "model" if !value.is_empty() => model = Some(value),
                "encoder" if !value.is_empty() => encoder = Some(value),
                "decoder" if !value.is_empty() => decoder = Some(value),
                _ => {}
            }
        }
        if let Some(model) = model {
            if model == "builtin" {
                params.model = Some(ModelChoice::Builtin);
            } else if let Some((first, second)) = model.split_once(',') {
                encoder = Some(first.trim().to_string());
                decoder = Some(second.trim().to_string());
            } else {
                params.problems.push(
                    "The model parameter needs the encoder and decoder addresses separated by a comma."
                        .into(),
                );
            }
        }
        match (encoder, decoder) {
            (Some(encoder), Some(decoder)) => match (resolve(&encoder), resolve(&decoder)) {
                (Ok(encoder), Ok(decoder)) => {
                    params.model = Some(ModelChoice::Url { encoder, decoder })
                }
                (Err(why), _) | (_, Err(why)) => {
                    params.problems.push(format!("The model address {why}."))
                }
            },
            (None, None) => {}
            _ => params
                .problems
                .push("A model needs both an encoder and a decoder address.".into()),
        }
        params
    }

    /// Opens the image and loads the model the address asked for, and says
    /// what could not be used.
    pub fn apply(&self, state: AppState) {
        if let Some(model) = self.model.clone() {
            if model != ModelChoice::Builtin {
                state.load_model(model);
            }
        }
        if let Some(address) = self.image.clone() {
            spawn_local(async move {
                match fetch_image(&address).await {
                    Ok(file) => state.open(file),
                    Err(message) => state.error.set(Some(message)),
                }
            });
        }
        if !self.problems.is_empty() {
            state.error.set(Some(self.problems.join(" ")));
        }
        if let Some(query) = self.query.clone() {
            ask_when_encoded(state, query);
        }
    }
}

/// Asks `query` once, as soon as the first image is encoded.
fn ask_when_encoded(state: AppState, query: String) {
    let asked = StoredValue::new(false);
    Effect::new(move || {
        let encoded = state.image.with(|image| {
            image
                .as_ref()
                .is_some_and(|image| image.stage == Some(Stage::Done))
        });
        if encoded && !asked.get_value() {
            asked.set_value(true);
            state.ask(query.clone());
        }
    });
}

/// The question the address asked to prefill, for the question field; empty
/// when there is none. Reads the settings [`StartParams`] put in the context.
pub fn start_query() -> String {
    use_context::<StartParams>()
        .and_then(|params| params.query)
        .unwrap_or_default()
}

/// Makes `address` absolute against the page's address; only http(s) is
/// allowed, so a parameter cannot point the page at script or local data.
fn resolve(address: &str, base: &str) -> Result<String, String> {
    let url = Url::new_with_base(address, base).map_err(|_| "is not an address".to_string())?;
    match url.protocol().as_str() {
        "http:" | "https:" => Ok(url.href()),
        other => Err(format!(
            "uses {other}, but only http and https addresses are fetched"
        )),
    }
}

/// Downloads the image at `address` into a `File` named after its last path
/// segment, as if the person had picked it.
async fn fetch_image(address: &str) -> Result<File, String> {
    let fail = |detail: String| format!("The image at {address} could not be loaded: {detail}.");
    let window = web_sys::window().ok_or_else(|| fail("no window".into()))?;
    let response: Response = JsFuture::from(window.fetch_with_str(address))
        .await
        .map_err(|error| fail(describe(&error)))?
        .dyn_into()
        .map_err(|_| fail("the answer is not an HTTP response".into()))?;
    if !response.ok() {
        return Err(fail(format!(
            "the server answered {} {}",
            response.status(),
            response.status_text()
        )));
    }
    let blob = response.blob().map_err(|error| fail(describe(&error)))?;
    let blob = JsFuture::from(blob)
        .await
        .map_err(|error| fail(describe(&error)))?;
    let parts = js_sys::Array::of1(&blob);
    File::new_with_blob_sequence(&parts, &file_name(address))
        .map_err(|error| fail(describe(&error)))
}

/// The last path segment of an address, for messages and the status line.
fn file_name(address: &str) -> String {
    let path = address.split(['?', '#']).next().unwrap_or(address);
    let segment = path
        .rsplit('/')
        .find(|segment| !segment.is_empty())
        .unwrap_or("image");
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    fn absolute(address: &str) -> Result<String, String> {
        if address.starts_with("javascript:") {
            Err("uses javascript:".into())
        } else if address.starts_with("http") {
            Ok(address.to_string())
        } else {
            Ok(format!("http://127.0.0.1/{address}"))
        }
    }

    #[test]
    fn reads_image_model_pair_query_and_embed() {
        let params = StartParams::from_pairs(
            pairs(&[
                ("image", "pics/a.png"),
                ("model", "https://m/enc.onnx, https://m/dec.onnx"),
                ("query", "  the red box "),
                ("embed", "1"),
            ]),
            absolute,
        );
        assert_eq!(params.image.as_deref(), Some("http://127.0.0.1/pics/a.png"));
        assert_eq!(
            params.model,
            Some(ModelChoice::Url {
                encoder: "https://m/enc.onnx".into(),
                decoder: "https://m/dec.onnx".into()
            })
        );
        assert_eq!(params.query.as_deref(), Some("the red box"));
        assert!(params.embed);
        assert_eq!(params.threads, None);
        assert!(params.problems.is_empty());
    }

    #[test]
    fn separate_encoder_and_decoder_parameters_work() {
        let params = StartParams::from_pairs(
            pairs(&[("encoder", "e.onnx"), ("decoder", "d.onnx")]),
            absolute,
        );
        assert_eq!(
            params.model,
            Some(ModelChoice::Url {
                encoder: "http://127.0.0.1/e.onnx".into(),
                decoder: "http://127.0.0.1/d.onnx".into()
            })
        );
        assert!(!params.embed);
    }

    #[test]
    fn unusable_parameters_are_reported_not_used() {
        let params = StartParams::from_pairs(
            pairs(&[
                ("image", "javascript:alert(1)"),
                ("encoder", "e.onnx"),
                ("embed", "0"),
            ]),
            absolute,
        );
        assert_eq!(params.image, None);
        assert_eq!(params.model, None);
        assert!(!params.embed);
        assert_eq!(params.problems.len(), 2, "{:?}", params.problems);
        assert!(params.problems[0].contains("javascript:"));
    }

    #[test]
    fn simd_is_plain_or_relaxed() {
        let plain = StartParams::from_pairs(pairs(&[("simd", "plain")]), absolute);
        assert!(plain.plain_simd);
        assert!(plain.problems.is_empty());
        let relaxed = StartParams::from_pairs(pairs(&[("simd", "relaxed")]), absolute);
        assert!(!relaxed.plain_simd);
        assert!(!StartParams::from_pairs(pairs(&[]), absolute).plain_simd);
        let bad = StartParams::from_pairs(pairs(&[("simd", "fast")]), absolute);
        assert!(!bad.plain_simd);
        assert_eq!(bad.problems.len(), 1);
        assert!(bad.problems[0].contains("\"fast\""), "{:?}", bad.problems);
    }

    #[test]
    fn threads_must_be_a_positive_whole_number() {
        let params = StartParams::from_pairs(pairs(&[("threads", "2")]), absolute);
        assert_eq!(params.threads, Some(2));
        for bad in ["0", "two", "-1", ""] {
            let params = StartParams::from_pairs(pairs(&[("threads", bad)]), absolute);
            assert_eq!(params.threads, None, "{bad}");
            assert_eq!(params.problems.len(), 1, "{bad}: {:?}", params.problems);
            assert!(params.problems[0].contains("threads"), "{bad}");
        }
    }

    #[test]
    fn file_name_is_the_last_path_segment() {
        assert_eq!(file_name("http://h/a/b/cat.png?x=1#y"), "cat.png");
        assert_eq!(file_name("http://h/"), "h");
        assert_eq!(file_name("http://h/small%20scene.png"), "small scene.png");
    }
}
