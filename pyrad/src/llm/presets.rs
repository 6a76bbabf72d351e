//! Provider presets as pure data: which wire format, where, whether a key is
//! needed, and the context budget Pyra trims history to (overridable in config).

/// The wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    OpenAi,
    Anthropic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The name used in config and `pyractl setup --provider`.
    pub id: &'static str,
    pub name: &'static str,
    pub wire: Wire,
    /// Empty for `custom`, which needs a base URL from the user.
    pub base_url: &'static str,
    pub needs_key: bool,
    pub default_model: &'static str,
    /// Tokens of history kept for a model of this provider.
    pub context_tokens: u32,
}

pub const PRESETS: &[Preset] = &[
    Preset {
        id: "openai",
        name: "OpenAI",
        wire: Wire::OpenAi,
        base_url: "https://api.openai.com/v1",
        needs_key: true,
        default_model: "gpt-4o-mini",
        context_tokens: 128_000,
    },
    Preset {
        id: "anthropic",
        name: "Anthropic",
        wire: Wire::Anthropic,
        base_url: "https://api.anthropic.com",
        needs_key: true,
        default_model: "claude-sonnet-4-5",
        context_tokens: 200_000,
    },
    Preset {
        id: "openrouter",
        name: "OpenRouter",
        wire: Wire::OpenAi,
        base_url: "https://openrouter.ai/api/v1",
        needs_key: true,
        default_model: "openai/gpt-4o-mini",
        context_tokens: 128_000,
    },
    Preset {
        id: "groq",
        name: "Groq",
        wire: Wire::OpenAi,
        base_url: "https://api.groq.com/openai/v1",
        needs_key: true,
        default_model: "llama-3.3-70b-versatile",
        context_tokens: 128_000,
    },
    Preset {
        id: "mistral",
        name: "Mistral",
        wire: Wire::OpenAi,
        base_url: "https://api.mistral.ai/v1",
        needs_key: true,
        default_model: "mistral-small-latest",
        context_tokens: 32_000,
    },
    Preset {
        id: "deepseek",
        name: "DeepSeek",
        wire: Wire::OpenAi,
        base_url: "https://api.deepseek.com/v1",
        needs_key: true,
        default_model: "deepseek-chat",
        context_tokens: 64_000,
    },
    Preset {
        id: "together",
        name: "Together AI",
        wire: Wire::OpenAi,
        base_url: "https://api.together.xyz/v1",
        needs_key: true,
        default_model: "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        context_tokens: 128_000,
    },
    Preset {
        id: "ollama",
        name: "Ollama",
        wire: Wire::OpenAi,
        base_url: "http://127.0.0.1:11434/v1",
        needs_key: false,
        default_model: "llama3.2",
        context_tokens: 8_192,
    },
    Preset {
        id: "lmstudio",
        name: "LM Studio",
        wire: Wire::OpenAi,
        base_url: "http://127.0.0.1:1234/v1",
        needs_key: false,
        default_model: "local-model",
        context_tokens: 8_192,
    },
    Preset {
        id: "llamacpp",
        name: "llama.cpp server",
        wire: Wire::OpenAi,
        base_url: "http://127.0.0.1:8080/v1",
        needs_key: false,
        default_model: "local-model",
        context_tokens: 8_192,
    },
    Preset {
        id: "vllm",
        name: "vLLM",
        wire: Wire::OpenAi,
        base_url: "http://127.0.0.1:8000/v1",
        needs_key: false,
        default_model: "local-model",
        context_tokens: 32_000,
    },
    Preset {
        id: "custom",
        name: "Custom (any OpenAI-compatible URL)",
        wire: Wire::OpenAi,
        base_url: "",
        needs_key: false,
        default_model: "",
        context_tokens: 8_192,
    },
];

/// The preset named `id`.
pub fn find(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

/// The provider in force: a preset with the config's overrides applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub preset: &'static Preset,
    pub base_url: String,
    pub model: String,
    pub context_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("no LLM provider is configured; run `pyractl setup` or set [provider] in config.toml")]
    NoProvider,
    #[error("unknown provider preset {0:?} in config.toml")]
    UnknownPreset(String),
    #[error("provider preset custom needs [provider] base_url")]
    NoBaseUrl,
    #[error("[provider] base_url {0:?} has no http:// or https://; write it whole, such as http://127.0.0.1:11434/v1")]
    BadBaseUrl(String),
}

/// Resolves `[provider]`: the one place where preset defaults meet the user's overrides
/// (empty strings and 0 mean "the preset's").
pub fn resolve(preset: &str, base_url: &str, model: &str, context_tokens: u64) -> Result<Resolved, ResolveError> {
    if preset.is_empty() {
        return Err(ResolveError::NoProvider);
    }
    let p = find(preset).ok_or_else(|| ResolveError::UnknownPreset(preset.to_owned()))?;
    let base_url = if base_url.is_empty() { p.base_url } else { base_url };
    if base_url.is_empty() {
        return Err(ResolveError::NoBaseUrl);
    }
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(ResolveError::BadBaseUrl(base_url.to_owned()));
    }
    Ok(Resolved {
        preset: p,
        base_url: base_url.to_owned(),
        model: if model.is_empty() { p.default_model } else { model }.to_owned(),
        context_tokens: if context_tokens == 0 { u64::from(p.context_tokens) } else { context_tokens },
    })
}
