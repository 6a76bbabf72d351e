//! Provider presets as pure data: which wire format, where, whether a key is
//! needed, and the context budget Pyra trims history to (overridable in config).

/// The wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    OpenAi,
    Anthropic,
}

#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// List prices of this provider's well-known models (see [`PRICES_AS_OF`]).
    pub prices: &'static [(&'static str, Price)],
}

/// What a model costs, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

impl Price {
    const fn new(input: f64, output: f64) -> Self {
        Self { input, output }
    }

    /// The cost in US dollars of `input` and `output` tokens.
    pub fn cost(&self, input: u64, output: u64) -> f64 {
        (input as f64 * self.input + output as f64 * self.output) / 1_000_000.0
    }
}

/// When the providers' list prices below were taken from their price pages.
/// Prices change: `[provider] prices` in config.toml overrides any of them.
pub const PRICES_AS_OF: &str = "2025-10";

/// The price of `model` on this preset: exactly, or as a dated snapshot of a
/// listed model (`gpt-4o-mini-2024-07-18`, `claude-sonnet-4-5-20250929`). Local
/// servers list nothing, so their turns show no cost.
pub fn list_price(preset: &Preset, model: &str) -> Option<Price> {
    preset
        .prices
        .iter()
        .filter(|(name, _)| model.strip_prefix(name).is_some_and(is_snapshot_suffix))
        .max_by_key(|(name, _)| name.len())
        .map(|(_, price)| *price)
}

/// "" or a date suffix such as `-2024-07-18`, `-20250929` or `-latest`.
fn is_snapshot_suffix(rest: &str) -> bool {
    rest.is_empty()
        || rest == "-latest"
        || (rest.starts_with('-') && rest.len() >= 5 && rest[1..].chars().all(|c| c.is_ascii_digit() || c == '-'))
}

const OPENAI_PRICES: &[(&str, Price)] = &[
    ("gpt-4o-mini", Price::new(0.15, 0.60)),
    ("gpt-4o", Price::new(2.50, 10.00)),
    ("gpt-4.1", Price::new(2.00, 8.00)),
    ("gpt-4.1-mini", Price::new(0.40, 1.60)),
    ("gpt-4.1-nano", Price::new(0.10, 0.40)),
    ("gpt-5", Price::new(1.25, 10.00)),
    ("gpt-5-mini", Price::new(0.25, 2.00)),
    ("gpt-5-nano", Price::new(0.05, 0.40)),
    ("o3", Price::new(2.00, 8.00)),
    ("o4-mini", Price::new(1.10, 4.40)),
];

const ANTHROPIC_PRICES: &[(&str, Price)] = &[
    ("claude-sonnet-4-5", Price::new(3.00, 15.00)),
    ("claude-sonnet-4", Price::new(3.00, 15.00)),
    ("claude-sonnet-4-0", Price::new(3.00, 15.00)),
    ("claude-3-7-sonnet", Price::new(3.00, 15.00)),
    ("claude-haiku-4-5", Price::new(1.00, 5.00)),
    ("claude-3-5-haiku", Price::new(0.80, 4.00)),
    ("claude-opus-4-1", Price::new(15.00, 75.00)),
    ("claude-opus-4", Price::new(15.00, 75.00)),
    ("claude-opus-4-0", Price::new(15.00, 75.00)),
];

const OPENROUTER_PRICES: &[(&str, Price)] = &[
    ("openai/gpt-4o-mini", Price::new(0.15, 0.60)),
    ("openai/gpt-4o", Price::new(2.50, 10.00)),
    ("openai/gpt-4.1-mini", Price::new(0.40, 1.60)),
    ("openai/gpt-5", Price::new(1.25, 10.00)),
    ("openai/gpt-5-mini", Price::new(0.25, 2.00)),
    ("anthropic/claude-sonnet-4.5", Price::new(3.00, 15.00)),
    ("anthropic/claude-haiku-4.5", Price::new(1.00, 5.00)),
];

const GROQ_PRICES: &[(&str, Price)] =
    &[("llama-3.3-70b-versatile", Price::new(0.59, 0.79)), ("llama-3.1-8b-instant", Price::new(0.05, 0.08))];

const MISTRAL_PRICES: &[(&str, Price)] = &[
    ("mistral-small", Price::new(0.10, 0.30)),
    ("mistral-medium", Price::new(0.40, 2.00)),
    ("mistral-large", Price::new(2.00, 6.00)),
];

const DEEPSEEK_PRICES: &[(&str, Price)] = &[("deepseek-chat", Price::new(0.28, 0.42))];

const TOGETHER_PRICES: &[(&str, Price)] = &[("meta-llama/Llama-3.3-70B-Instruct-Turbo", Price::new(0.88, 0.88))];

pub const PRESETS: &[Preset] = &[
    Preset {
        id: "openai",
        name: "OpenAI",
        wire: Wire::OpenAi,
        base_url: "https://api.openai.com/v1",
        needs_key: true,
        default_model: "gpt-4o-mini",
        context_tokens: 128_000,
        prices: OPENAI_PRICES,
    },
    Preset {
        id: "anthropic",
        name: "Anthropic",
        wire: Wire::Anthropic,
        base_url: "https://api.anthropic.com",
        needs_key: true,
        default_model: "claude-sonnet-4-5",
        context_tokens: 200_000,
        prices: ANTHROPIC_PRICES,
    },
    Preset {
        id: "openrouter",
        name: "OpenRouter",
        wire: Wire::OpenAi,
        base_url: "https://openrouter.ai/api/v1",
        needs_key: true,
        default_model: "openai/gpt-4o-mini",
        context_tokens: 128_000,
        prices: OPENROUTER_PRICES,
    },
    Preset {
        id: "groq",
        name: "Groq",
        wire: Wire::OpenAi,
        base_url: "https://api.groq.com/openai/v1",
        needs_key: true,
        default_model: "llama-3.3-70b-versatile",
        context_tokens: 128_000,
        prices: GROQ_PRICES,
    },
    Preset {
        id: "mistral",
        name: "Mistral",
        wire: Wire::OpenAi,
        base_url: "https://api.mistral.ai/v1",
        needs_key: true,
        default_model: "mistral-small-latest",
        context_tokens: 32_000,
        prices: MISTRAL_PRICES,
    },
    Preset {
        id: "deepseek",
        name: "DeepSeek",
        wire: Wire::OpenAi,
        base_url: "https://api.deepseek.com/v1",
        needs_key: true,
        default_model: "deepseek-chat",
        context_tokens: 64_000,
        prices: DEEPSEEK_PRICES,
    },
    Preset {
        id: "together",
        name: "Together AI",
        wire: Wire::OpenAi,
        base_url: "https://api.together.xyz/v1",
        needs_key: true,
        default_model: "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        context_tokens: 128_000,
        prices: TOGETHER_PRICES,
    },
    Preset {
        id: "ollama",
        name: "Ollama",
        wire: Wire::OpenAi,
        base_url: "http://127.0.0.1:11434/v1",
        needs_key: false,
        default_model: "llama3.2",
        context_tokens: 8_192,
        prices: &[],
    },
    Preset {
        id: "lmstudio",
        name: "LM Studio",
        wire: Wire::OpenAi,
        base_url: "http://127.0.0.1:1234/v1",
        needs_key: false,
        default_model: "local-model",
        context_tokens: 8_192,
        prices: &[],
    },
    Preset {
        id: "llamacpp",
        name: "llama.cpp server",
        wire: Wire::OpenAi,
        base_url: "http://127.0.0.1:8080/v1",
        needs_key: false,
        default_model: "local-model",
        context_tokens: 8_192,
        prices: &[],
    },
    Preset {
        id: "vllm",
        name: "vLLM",
        wire: Wire::OpenAi,
        base_url: "http://127.0.0.1:8000/v1",
        needs_key: false,
        default_model: "local-model",
        context_tokens: 32_000,
        prices: &[],
    },
    Preset {
        id: "custom",
        name: "Custom (any OpenAI-compatible URL)",
        wire: Wire::OpenAi,
        base_url: "",
        needs_key: false,
        default_model: "",
        context_tokens: 8_192,
        prices: &[],
    },
];

/// The preset named `id`.
pub fn find(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

/// The provider in force: a preset with the config's overrides applied.
#[derive(Debug, Clone, PartialEq)]
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
