//! `--reasoner embedded|openai` and the remote flags (`--endpoint`, `--model`,
//! `--api-key-env`, `--timeout`) shared by `ask` and `eval`.

use std::time::Duration;

use clap::{Args, ValueEnum};
use twinseg::reason::remote::{ApiKey, RemoteConfig, RemoteReasoner};
use twinseg::reason::{EmbeddedReasoner, Reasoner};

/// Endpoint used by `--reasoner openai` when `--endpoint` is not given.
pub const DEFAULT_ENDPOINT: &str = "https://api.openai.com/v1";
/// Model name sent when `--model` is not given.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";
/// Variable read for the key when neither `--api-key-env` nor `--endpoint` is
/// given (used only if set): an OpenAI key is never sent to another server
/// unless asked for.
pub const DEFAULT_KEY_VAR: &str = "OPENAI_API_KEY";

/// Which reasoner answers the question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReasonerKind {
    /// The offline reasoner built into twinseg (no network).
    Embedded,
    /// Any OpenAI-compatible /v1/chat/completions endpoint (OpenAI, vLLM, llama.cpp, Ollama).
    Openai,
}

/// The reasoner flags.
#[derive(Args, Debug, Clone)]
pub struct ReasonerArgs {
    /// Which reasoner answers: the offline embedded one, or a remote OpenAI-compatible model.
    #[arg(long, value_enum, default_value_t = ReasonerKind::Embedded)]
    reasoner: ReasonerKind,
    /// Base URL (e.g. http://localhost:11434/v1) or full chat/completions URL
    /// [default: https://api.openai.com/v1].
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// Model name sent to the endpoint [default: gpt-4o-mini].
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// Environment variable holding the API key (the key itself is never a flag and never printed)
    /// [default: OPENAI_API_KEY when it is set and no --endpoint is given, else no key].
    #[arg(long, value_name = "VAR")]
    api_key_env: Option<String>,
    /// Longest wait for one request to the endpoint, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    timeout: f64,
}

impl ReasonerArgs {
    /// Builds the chosen reasoner; the error is one sentence and never holds the key.
    pub fn build(&self) -> Result<Box<dyn Reasoner>, String> {
        match self.reasoner {
            ReasonerKind::Embedded => {
                self.refuse_remote_flags()?;
                Ok(Box::new(EmbeddedReasoner))
            }
            ReasonerKind::Openai => Ok(Box::new(RemoteReasoner::new(self.remote_config()?))),
        }
    }

    /// A short description for progress lines, e.g. `openai (gpt-4o-mini at https://…)`.
    pub fn describe(&self) -> String {
        match self.reasoner {
            ReasonerKind::Embedded => "embedded".to_string(),
            ReasonerKind::Openai => format!(
                "openai ({} at {})",
                self.model.as_deref().unwrap_or(DEFAULT_MODEL),
                self.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT)
            ),
        }
    }

    fn refuse_remote_flags(&self) -> Result<(), String> {
        let given = [
            ("--endpoint", self.endpoint.is_some()),
            ("--model", self.model.is_some()),
            ("--api-key-env", self.api_key_env.is_some()),
        ];
        match given.iter().find(|(_, set)| *set) {
            Some((flag, _)) => Err(format!(
                "{flag} only applies with --reasoner openai (the embedded reasoner uses no network)"
            )),
            None => Ok(()),
        }
    }

    fn remote_config(&self) -> Result<RemoteConfig, String> {
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 3600.0) {
            return Err(format!(
                "--timeout has to be a number of seconds above 0 and at most 3600, got {}",
                self.timeout
            ));
        }
        let endpoint = self.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(format!(
                "--endpoint has to be an http:// or https:// URL, got {endpoint:?}"
            ));
        }
        let mut config =
            RemoteConfig::new(endpoint, self.model.as_deref().unwrap_or(DEFAULT_MODEL));
        config.timeout = Duration::from_secs_f64(self.timeout);
        config.api_key = self.api_key()?;
        Ok(config)
    }

    fn api_key(&self) -> Result<Option<ApiKey>, String> {
        match &self.api_key_env {
            Some(var) => ApiKey::from_env(var).map(Some).map_err(|e| e.to_string()),
            None if self.endpoint.is_none() => Ok(ApiKey::from_env(DEFAULT_KEY_VAR).ok()),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(reasoner: ReasonerKind) -> ReasonerArgs {
        ReasonerArgs {
            reasoner,
            endpoint: None,
            model: None,
            api_key_env: None,
            timeout: 60.0,
        }
    }

    #[test]
    fn embedded_refuses_remote_flags() {
        assert!(args(ReasonerKind::Embedded).build().is_ok());
        let with_endpoint = ReasonerArgs {
            endpoint: Some("http://127.0.0.1:1".into()),
            ..args(ReasonerKind::Embedded)
        };
        let err = with_endpoint.build().err().expect("refused");
        assert!(err.contains("--endpoint only applies with --reasoner openai"));
    }

    #[test]
    fn the_default_key_goes_only_to_the_default_endpoint() {
        std::env::set_var(DEFAULT_KEY_VAR, "sk-default-endpoint-only");
        let default = args(ReasonerKind::Openai).remote_config().expect("valid");
        assert_eq!(
            default.api_key,
            Some(ApiKey::new("sk-default-endpoint-only"))
        );
        let other = ReasonerArgs {
            endpoint: Some("http://127.0.0.1:8080/v1".into()),
            ..args(ReasonerKind::Openai)
        };
        assert_eq!(other.remote_config().expect("valid").api_key, None);
    }

    #[test]
    fn remote_flags_are_checked() {
        let bad_url = ReasonerArgs {
            endpoint: Some("localhost:8080".into()),
            ..args(ReasonerKind::Openai)
        };
        assert!(bad_url.build().err().expect("refused").contains("http://"));
        let bad_timeout = ReasonerArgs {
            timeout: 0.0,
            ..args(ReasonerKind::Openai)
        };
        assert!(bad_timeout
            .build()
            .err()
            .expect("refused")
            .contains("--timeout"));
        let missing_var = ReasonerArgs {
            api_key_env: Some("TWINSEG_TEST_SURELY_UNSET_VARIABLE".into()),
            ..args(ReasonerKind::Openai)
        };
        let err = missing_var.build().err().expect("refused");
        assert!(err.contains("TWINSEG_TEST_SURELY_UNSET_VARIABLE is not set"));
    }
}
