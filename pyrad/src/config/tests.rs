use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("/h/config.toml"), text, Vec::new())
}

fn with_env(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    Config::parse(Path::new("/h/config.toml"), text, env)
}

#[test]
fn the_default_file_is_the_default_config() {
    assert_eq!(parse(DEFAULT_CONFIG_TOML).unwrap(), Config::default());
    assert_eq!(parse("").unwrap(), Config::default());
}

#[test]
fn the_default_file_documents_every_key() {
    let table = toml::Table::try_from(Config::default()).unwrap();
    // A struct inside a section ([bots.telegram]) is a section of its own; a map
    // (approval.timeouts) is a key.
    let sub = |section: &str, key: &str| DEFAULT_CONFIG_TOML.contains(&format!("[{section}.{key}]"));
    let mut sections: Vec<(String, toml::Table)> = Vec::new();
    for (section, fields) in &table {
        let fields = fields.as_table().unwrap();
        for (key, value) in fields {
            if let Some(inner) = value.as_table().filter(|_| sub(section, key)) {
                sections.push((format!("{section}.{key}"), inner.clone()));
            }
        }
        let plain = fields.iter().filter(|(k, _)| !sub(section, k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        sections.push((section.clone(), plain));
    }
    for (section, fields) in &sections {
        assert!(DEFAULT_CONFIG_TOML.contains(&format!("[{section}]")), "section {section} undocumented");
        for key in fields.keys() {
            let line = DEFAULT_CONFIG_TOML.lines().position(|l| l.starts_with(&format!("{key} =")));
            let line = line.unwrap_or_else(|| panic!("{section}.{key} missing from the default file"));
            let above = DEFAULT_CONFIG_TOML.lines().nth(line - 1).unwrap();
            assert!(above.starts_with('#'), "{section}.{key} has no comment above it");
        }
    }
}

#[test]
fn a_file_value_overrides_the_default() {
    let config = parse("[daemon]\nlog_level = \"debug\"\n").unwrap();
    assert_eq!(config.daemon.log_level, "debug");
    assert_eq!(config.daemon.shutdown_timeout_secs, 5);
}

#[test]
fn a_syntax_error_names_line_and_column() {
    let err = parse("[daemon]\nlog_level = \"debug\nx").unwrap_err().to_string();
    assert!(err.starts_with("/h/config.toml:3:"), "{err}");
    assert!(err.contains("expected"), "{err}");
}

#[test]
fn an_unknown_key_names_where_and_what_was_expected() {
    let err = parse("[daemon]\n\nlog_levle = \"debug\"\n").unwrap_err().to_string();
    assert!(err.starts_with("/h/config.toml:3:1:"), "{err}");
    assert!(err.contains("log_levle") && err.contains("log_level"), "{err}");
}

#[test]
fn a_wrong_type_says_what_was_expected() {
    let err = parse("[ipc]\nmax_connections = \"many\"\n").unwrap_err().to_string();
    assert!(err.starts_with("/h/config.toml:2:19:"), "{err}");
    assert!(err.contains("expected usize"), "{err}");
}

#[test]
fn the_environment_overrides_the_file() {
    let config = with_env(
        "[daemon]\nlog_level = \"warn\"\n",
        &[("PYRA__DAEMON__LOG_LEVEL", "trace"), ("PYRA__IPC__MAX_CONNECTIONS", "3"), ("PYRA_HOME", "/x")],
    )
    .unwrap();
    assert_eq!(config.daemon.log_level, "trace");
    assert_eq!(config.ipc.max_connections, 3);
}

#[test]
fn a_bad_environment_variable_is_named() {
    let err = with_env("", &[("PYRA__IPC__MAX_CONNECTIONS", "lots")]).unwrap_err().to_string();
    assert!(err.starts_with("environment variable PYRA__IPC__MAX_CONNECTIONS:"), "{err}");
    let err = with_env("", &[("PYRA__NOPE__X", "1")]).unwrap_err().to_string();
    assert!(err.contains("unknown section [nope]"), "{err}");
    let err = with_env("", &[("PYRA__DAEMON__NOPE", "1")]).unwrap_err().to_string();
    assert!(err.contains("unknown key \"nope\""), "{err}");
}

#[test]
fn a_string_key_keeps_numeric_looking_values_as_strings() {
    let config = with_env("", &[("PYRA__IPC__SOCKET", "123")]).unwrap();
    assert_eq!(config.ipc.socket, std::path::PathBuf::from("123"));
}

#[test]
fn a_value_out_of_range_is_refused_with_file_and_line() {
    let err = parse("[daemon]\nlog_level = \"info\"\n\n[ipc]\nmax_connections = 0\n").unwrap_err().to_string();
    assert!(err.starts_with("/h/config.toml:5:19:"), "{err}");
    assert!(err.contains("0 is out of range: must be from 1 to 65536"), "{err}");
    let err = parse("[approval]\ntimeout_secs = 0\n").unwrap_err().to_string();
    assert!(err.starts_with("/h/config.toml:2:16:") && err.contains("from 1 to 86400"), "{err}");
    let err = parse("[approval]\ntimeouts = { telegram = 0 }\n").unwrap_err().to_string();
    assert!(err.starts_with("/h/config.toml:2:") && err.contains("telegram: 0 is out of range"), "{err}");
    let err = parse("[bots]\nrefuse_score = 1.5\n").unwrap_err().to_string();
    assert!(err.starts_with("/h/config.toml:2:") && err.contains("must be from 0 to 1"), "{err}");
    let err = parse("[chat]\nmax_tool_iterations = -1\n").unwrap_err().to_string();
    assert!(err.starts_with("/h/config.toml:2:"), "{err}");
    // The edges are accepted.
    let config =
        parse("[ipc]\nmax_connections = 1\n[approval]\ntimeout_secs = 86400\n[bots]\nrefuse_score = 0.0\n").unwrap();
    assert_eq!((config.ipc.max_connections, config.approval.timeout_secs), (1, 86400));
}

#[test]
fn an_environment_value_out_of_range_names_the_variable() {
    let err = with_env("", &[("PYRA__IPC__MAX_CONNECTIONS", "0")]).unwrap_err().to_string();
    assert!(err.starts_with("environment variable PYRA__IPC__MAX_CONNECTIONS:"), "{err}");
    assert!(err.contains("out of range"), "{err}");
}

#[test]
fn every_numeric_key_has_a_range() {
    // Each numeric key of the default file is refused far past any sane value.
    let table = toml::Table::try_from(Config::default()).unwrap();
    let mut checked = 0;
    let mut walk: Vec<(String, toml::Table)> =
        table.into_iter().filter_map(|(k, v)| Some((k, v.as_table()?.clone()))).collect();
    while let Some((section, fields)) = walk.pop() {
        for (key, value) in fields {
            let text = match value {
                toml::Value::Integer(_) => format!("[{section}]\n{key} = 2000000000\n"),
                toml::Value::Float(_) => format!("[{section}]\n{key} = 1e300\n"),
                toml::Value::Table(inner) if section != "approval" => {
                    walk.push((format!("{section}.{key}"), inner));
                    continue;
                }
                _ => continue,
            };
            let err = parse(&text).expect_err(&format!("{section}.{key} accepts anything"));
            assert!(err.to_string().contains("out of range"), "{section}.{key}: {err}");
            let range = DEFAULT_CONFIG_TOML.lines().collect::<Vec<_>>();
            let at = range.iter().position(|l| l.starts_with(&format!("{key} ="))).unwrap();
            assert!(
                range[at - 1].starts_with("# Range: "),
                "{section}.{key}: the default file does not give its range"
            );
            checked += 1;
        }
    }
    assert!(checked >= 17, "{checked}");
}

#[test]
fn prices_override_the_list_and_bad_ones_are_refused() {
    let config =
        parse("[provider]\npreset = \"openai\"\nprices = { \"gpt-4o-mini\" = [1.0, 2.0], \"mine\" = [0, 0.5] }\n")
            .unwrap();
    let openai = crate::llm::presets::find("openai").unwrap();
    let price = |model| config.provider.price(openai, model).map(|p| (p.input, p.output));
    assert_eq!(price("gpt-4o-mini"), Some((1.0, 2.0)));
    assert_eq!(price("mine"), Some((0.0, 0.5)));
    assert_eq!(price("gpt-4o"), Some((2.5, 10.0)), "unlisted here: the list price");
    assert_eq!(price("nobody-prices-this"), None);
    let err = parse("[provider]\nprices = { \"m\" = [-1, 2] }\n").unwrap_err().to_string();
    assert!(err.contains("two dollar amounts") && err.contains(":2:"), "{err}");
    let err = parse("[provider]\nprices = { \"m\" = [1] }\n").unwrap_err().to_string();
    assert!(err.contains(":2:"), "{err}");
}
