//! Settings of the command line: flag > environment variable > config file > default.
//!
//! clap already gives a flag precedence over its environment variable; this module
//! fills what is still missing from the config file, then from the defaults.

use super::Global;
use super::api::Failure;
use std::path::{Path, PathBuf};

/// The server a client talks to when nothing says otherwise.
pub const DEFAULT_URL: &str = "http://127.0.0.1:7070";
/// The environment a client works in when nothing says otherwise.
pub const DEFAULT_ENVIRONMENT: &str = "development";

/// The config file: `url`, `token`, `environment`.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The server's base URL.
    pub url: Option<String>,
    /// The API token.
    pub token: Option<String>,
    /// The default environment.
    pub environment: Option<String>,
}

/// What a client subcommand runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The server's base URL.
    pub url: String,
    /// The API token, if any.
    pub token: Option<String>,
    /// The environment.
    pub environment: String,
    /// The environment was named by `--env` or `PENNON_ENV` (not the config file or
    /// the default): listings across environments (audit, change requests) filter on it.
    pub environment_explicit: bool,
    /// Print the API's JSON instead of tables.
    pub json: bool,
}

/// The default config file: `$XDG_CONFIG_HOME/pennon/config.toml`, else
/// `$HOME/.config/pennon/config.toml`.
pub fn default_path(xdg_config_home: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    match (xdg_config_home.filter(|x| !x.is_empty()), home.filter(|h| !h.is_empty())) {
        (Some(xdg), _) => Some(Path::new(xdg).join("pennon").join("config.toml")),
        (None, Some(home)) => Some(Path::new(home).join(".config").join("pennon").join("config.toml")),
        (None, None) => None,
    }
}

/// Reads the config file. A file named by `--config` or `PENNON_CONFIG` must exist;
/// the default one may be absent.
pub fn load(global: &Global) -> Result<ConfigFile, Failure> {
    let (path, explicit) = match &global.config {
        Some(path) => (path.clone(), true),
        None => {
            let xdg = std::env::var("XDG_CONFIG_HOME").ok();
            let home = std::env::var("HOME").ok();
            match default_path(xdg.as_deref(), home.as_deref()) {
                Some(path) => (path, false),
                None => return Ok(ConfigFile::default()),
            }
        }
    };
    let what = format!("read the config file {}", path.display());
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if !explicit && error.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(error) => return Err(Failure::usage(what, error.to_string())),
    };
    parse(&text).map_err(|message| Failure::usage(what, message))
}

/// Parses the text of a config file.
pub fn parse(text: &str) -> Result<ConfigFile, String> {
    toml::from_str(text).map_err(|error| error.message().to_string())
}

/// Combines the command line (flags and environment variables, already merged by
/// clap), the config file and the defaults.
pub fn resolve(global: &Global, file: ConfigFile) -> Settings {
    let environment_explicit = global.environment.is_some();
    Settings {
        url: global.url.clone().or(file.url).unwrap_or_else(|| DEFAULT_URL.to_string()),
        token: global.token.clone().or(file.token).filter(|t| !t.is_empty()),
        environment: global.environment.clone().or(file.environment).unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_string()),
        environment_explicit,
        json: global.json,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global() -> Global {
        Global { url: None, token: None, environment: None, json: false, config: None }
    }

    #[test]
    fn defaults_apply_when_nothing_is_given() {
        let settings = resolve(&global(), ConfigFile::default());
        assert_eq!(settings.url, DEFAULT_URL);
        assert_eq!(settings.environment, "development");
        assert_eq!(settings.token, None);
        assert!(!settings.environment_explicit);
    }

    #[test]
    fn the_config_file_fills_what_the_command_line_leaves_open() {
        let file = parse("url = \"https://flags.example\"\ntoken = \"t1\"\nenvironment = \"staging\"\n").unwrap();
        let mut g = global();
        g.token = Some("t2".to_string());
        let settings = resolve(&g, file);
        assert_eq!(settings.url, "https://flags.example");
        assert_eq!(settings.token.as_deref(), Some("t2"));
        assert_eq!(settings.environment, "staging");
        assert!(!settings.environment_explicit);
        g.environment = Some("production".to_string());
        let settings = resolve(&g, ConfigFile::default());
        assert_eq!(settings.environment, "production");
        assert!(settings.environment_explicit);
    }

    #[test]
    fn unknown_keys_in_the_config_file_are_errors() {
        assert!(parse("urll = \"x\"").is_err());
        assert!(parse("url = 3").is_err());
        assert_eq!(parse("").unwrap(), ConfigFile::default());
    }

    #[test]
    fn the_default_path_follows_xdg_then_home() {
        assert_eq!(default_path(Some("/x"), Some("/h")), Some(PathBuf::from("/x/pennon/config.toml")));
        assert_eq!(default_path(Some(""), Some("/h")), Some(PathBuf::from("/h/.config/pennon/config.toml")));
        assert_eq!(default_path(None, None), None);
    }
}
