//! What a sandboxed plugin may reach besides its own folders: the paths its
//! manifest declares, and what its program needs to run at all. The kernel side
//! is `crate::sandbox`.
//!
//! A program's own files are granted read access without being declared, so
//! existing MCP servers run unchanged wherever they are installed:
//! - the command's folder, or for a command in a `bin/` folder the prefix's
//!   `bin/` and `lib/` (and a venv's `pyvenv.cfg`);
//! - each absolute path among the arguments: a folder itself, a file's folder,
//!   anything inside `node_modules` up to the outermost `node_modules`;
//! - the language runtimes and version managers kept in the home folder
//!   ([`RUNTIMES`]: pyenv, nvm, rustup, ...), read-only: they hold programs, not
//!   the user's data, and a `python3` on `PATH` is often a pyenv shim;
//! - for `npx`/`npm`, the npm cache `~/.npm` (read and write) and `~/.npmrc`;
//!   for `uvx`/`uv`, `~/.cache/uv` and `~/.local/share/uv` (read and write).

use std::path::{Component, Path, PathBuf};

/// Folders under the home folder where language runtimes and their managers live.
pub const RUNTIMES: &[&str] = &[
    ".pyenv",
    ".rbenv",
    ".nvm",
    ".asdf",
    ".volta",
    ".bun",
    ".deno",
    ".rustup",
    ".cargo/bin",
    ".sdkman",
    ".local/bin",
    ".local/lib",
    ".local/pipx",
    ".local/share/mise",
    ".local/share/fnm",
];

/// Read and read-write grants, before carving out `PYRA_HOME`.
#[derive(Debug, Default, PartialEq)]
pub struct Grants {
    pub read: Vec<PathBuf>,
    pub write: Vec<PathBuf>,
}

/// A path a grant may name: absolute, or in the home folder as `~` or `~/...`.
pub fn is_grantable(path: &Path) -> bool {
    path.is_absolute() || path.components().next().is_some_and(|c| c.as_os_str() == "~")
}

/// `~` and `~/x` → the home folder; anything else as written.
pub fn expand_home(path: &Path, home: Option<&Path>) -> Option<PathBuf> {
    let mut parts = path.components();
    match (parts.next(), home) {
        (Some(Component::Normal(first)), Some(home)) if first == "~" => Some(home.join(parts.as_path())),
        (Some(Component::Normal(first)), None) if first == "~" => None,
        _ => Some(path.to_path_buf()),
    }
}

/// Where `command` runs from: itself if it holds a `/`, else the first match on `path_var`.
pub fn which(command: &str, path_var: Option<&str>) -> Option<PathBuf> {
    if command.contains('/') {
        return Some(PathBuf::from(command));
    }
    std::env::split_paths(path_var?).map(|dir| dir.join(command)).find(|p| p.is_file())
}

/// The grants a program needs: see the module documentation.
pub fn for_program(command: &str, args: &[String], path_var: Option<&str>, home: Option<&Path>) -> Grants {
    let mut grants = Grants::default();
    if let Some(program) = which(command, path_var) {
        // The path as called (a venv's bin/python is a symlink out of the venv) and the real file.
        for path in [Some(program.clone()), program.canonicalize().ok()].into_iter().flatten() {
            grants.read.extend(program_files(&path));
        }
    }
    for arg in args.iter().map(Path::new).filter(|a| a.is_absolute()) {
        let Ok(real) = arg.canonicalize() else { continue };
        if let Some(modules) = outermost_node_modules(&real) {
            grants.read.push(modules);
        } else if real.is_dir() {
            grants.read.push(real);
        } else if let Some(parent) = real.parent() {
            grants.read.push(parent.to_path_buf());
        }
    }
    let name = Path::new(command).file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if let Some(home) = home {
        grants.read.extend(RUNTIMES.iter().map(|r| home.join(r)));
        match name {
            "npx" | "npm" => {
                grants.write.push(home.join(".npm"));
                grants.read.push(home.join(".npmrc"));
            }
            "uvx" | "uv" => {
                grants.write.push(home.join(".cache/uv"));
                grants.write.push(home.join(".local/share/uv"));
            }
            _ => {}
        }
    }
    grants
}

/// The files a program at `path` is made of.
fn program_files(path: &Path) -> Vec<PathBuf> {
    if let Some(modules) = outermost_node_modules(path) {
        return vec![modules];
    }
    let Some(folder) = path.parent() else { return Vec::new() };
    match folder.parent() {
        Some(prefix) if folder.file_name().is_some_and(|n| n == "bin") => {
            vec![folder.to_path_buf(), prefix.join("lib"), prefix.join("lib64"), prefix.join("pyvenv.cfg")]
        }
        _ => vec![folder.to_path_buf()],
    }
}

fn outermost_node_modules(path: &Path) -> Option<PathBuf> {
    let mut prefix = PathBuf::new();
    for component in path.components() {
        prefix.push(component);
        if component.as_os_str() == "node_modules" {
            return Some(prefix);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_folder_is_expanded_and_nothing_else() {
        let home = Path::new("/home/ada");
        assert_eq!(expand_home(Path::new("~/.npm"), Some(home)), Some(PathBuf::from("/home/ada/.npm")));
        assert_eq!(expand_home(Path::new("~"), Some(home)), Some(PathBuf::from("/home/ada")));
        assert_eq!(expand_home(Path::new("/srv/~x"), Some(home)), Some(PathBuf::from("/srv/~x")));
        assert_eq!(expand_home(Path::new("~/.npm"), None), None);
    }

    #[test]
    fn a_program_brings_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let venv = root.join("venv");
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(venv.join("bin/mcp-server-time"), "#!/bin/sh\n").unwrap();
        let script = root.join("app/node_modules/@scope/server/dist/index.js");
        std::fs::create_dir_all(script.parent().unwrap()).unwrap();
        std::fs::write(&script, "").unwrap();
        std::fs::create_dir_all(root.join("notes")).unwrap();
        std::fs::write(root.join("tool.py"), "").unwrap();

        let path_var = venv.join("bin").display().to_string();
        let g = for_program("mcp-server-time", &[], Some(&path_var), None);
        assert!(g.read.contains(&venv.join("bin")) && g.read.contains(&venv.join("lib")), "{g:?}");
        assert!(g.read.contains(&venv.join("pyvenv.cfg")) && !g.read.contains(&venv), "{g:?}");

        let args = [script.display().to_string(), "stdio".into(), root.join("notes").display().to_string()];
        let g = for_program("/usr/bin/env", &args, None, None);
        assert!(g.read.contains(&root.join("app/node_modules")), "{g:?}");
        assert!(g.read.contains(&root.join("notes")), "{g:?}");
        let g = for_program("python3", &[root.join("tool.py").display().to_string()], None, None);
        assert_eq!(g.read, vec![root.clone()]);

        let home = Path::new("/home/ada");
        let g = for_program("npx", &["-y".into(), "some-server".into()], None, Some(home));
        assert_eq!(g.write, vec![home.join(".npm")]);
        assert!(g.read.contains(&home.join(".pyenv")) && g.read.contains(&home.join(".npmrc")), "{g:?}");
        assert!(!g.read.contains(&home.to_path_buf()) && !g.read.iter().any(|p| p.ends_with(".ssh")));
        assert!(for_program("node", &[], None, Some(home)).write.is_empty());
    }
}
