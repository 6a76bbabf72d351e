use super::*;

fn memory() -> (tempfile::TempDir, Memory) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("pyra.db")).unwrap();
    let root = dir.path().join("memory");
    std::fs::create_dir(&root).unwrap();
    let memory = Memory::open(&root, store).unwrap();
    (dir, memory)
}

#[test]
fn writes_are_versioned_indexed_and_restorable() {
    let (_dir, m) = memory();
    assert_eq!(m.write("user/profile.md", "# Ada\nLikes tea.\n", "user").unwrap(), 1);
    assert_eq!(m.append("user/profile.md", "Lives in Lyon.", "tool").unwrap(), 2);
    assert_eq!(m.read("user/profile.md").unwrap(), "# Ada\nLikes tea.\nLives in Lyon.\n");
    let index = m.read(INDEX).unwrap();
    assert!(index.contains("- `user/profile.md` (") && index.contains("): Ada"), "{index}");

    m.write("user/profile.md", "oops, everything gone", "tool").unwrap();
    let log = m.log("user/profile.md").unwrap();
    assert_eq!(log.iter().map(|v| v.0).collect::<Vec<_>>(), vec![3, 2, 1]);
    assert_eq!(log[1].2, "tool");
    assert_eq!(m.restore("user/profile.md", 2).unwrap(), 4);
    assert_eq!(m.read("user/profile.md").unwrap(), "# Ada\nLikes tea.\nLives in Lyon.\n");
}

#[test]
fn a_hand_edit_is_kept_before_it_is_overwritten() {
    let (dir, m) = memory();
    m.write("context/today.md", "plan A", "user").unwrap();
    std::fs::write(dir.path().join("memory/context/today.md"), "plan B, edited by hand").unwrap();
    m.write("context/today.md", "plan C", "tool").unwrap();
    let log = m.log("context/today.md").unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[1].2, "found on disk");
    assert_eq!(m.store.memory_version("context/today.md", 2).unwrap().as_deref(), Some("plan B, edited by hand"));
}

#[test]
fn names_are_checked_by_the_safe_path_function() {
    let (dir, m) = memory();
    assert!(matches!(m.write("../escape.md", "x", "tool"), Err(MemoryError::Path(_))));
    assert!(matches!(m.write("/etc/passwd.md", "x", "tool"), Err(MemoryError::Path(_))));
    assert!(matches!(m.write("notes.txt", "x", "tool"), Err(MemoryError::NotMarkdown(_))));
    assert!(matches!(m.write(INDEX, "x", "tool"), Err(MemoryError::Generated(_))));
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("memory/knowledge/link")).unwrap();
    assert!(matches!(m.write("knowledge/link/secret.md", "x", "tool"), Err(MemoryError::Path(_))));
    assert!(matches!(m.read("knowledge/link/secret.md"), Err(MemoryError::Path(_))));
    assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none(), "nothing escaped");
}

#[test]
fn listing_skips_the_index_and_symlinks() {
    let (dir, m) = memory();
    m.write("knowledge/rust.md", "# Rust", "user").unwrap();
    m.write("user/profile.md", "# Me", "user").unwrap();
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("memory/knowledge/host.md")).unwrap();
    let names: Vec<String> = m.list().unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, vec!["knowledge/rust.md", "user/profile.md"]);
    assert!(matches!(m.read("missing.md"), Err(MemoryError::Missing(_))));
}

#[test]
fn files_are_private() {
    use std::os::unix::fs::MetadataExt;
    let (dir, m) = memory();
    m.write("user/profile.md", "x", "user").unwrap();
    for path in ["memory/user/profile.md", "memory/MEMORY_INDEX.md"] {
        assert_eq!(std::fs::metadata(dir.path().join(path)).unwrap().mode() & 0o777, 0o600, "{path}");
    }
    assert_eq!(std::fs::metadata(dir.path().join("memory/knowledge")).unwrap().mode() & 0o777, 0o700);
}

#[test]
fn a_write_cut_short_between_file_and_log_is_logged_at_the_next_start() {
    let (dir, m) = memory();
    m.write("user/profile.md", "v1\n", "user").unwrap();
    // A crash after the file was renamed into place, before the log: the order of
    // writes leaves exactly this state, never a logged version the file lacks.
    atomic_write(&dir.path().join("memory/user/profile.md"), "v2\n").unwrap();
    let store = Store::open(&dir.path().join("pyra.db")).unwrap();
    let again = Memory::open(&dir.path().join("memory"), store).unwrap();
    let log = again.log("user/profile.md").unwrap();
    assert_eq!((log[0].0, log[0].2.as_str()), (2, "found at start"));
    assert_eq!(again.store.memory_latest("user/profile.md").unwrap().as_deref(), Some("v2\n"));
    assert_eq!(again.read("user/profile.md").unwrap(), "v2\n");
    // Agreeing again, a further start logs nothing.
    let store = Store::open(&dir.path().join("pyra.db")).unwrap();
    let third = Memory::open(&dir.path().join("memory"), store).unwrap();
    assert_eq!(third.log("user/profile.md").unwrap().len(), 2);
}

#[test]
fn concurrent_appends_lose_nothing_and_file_and_log_agree() {
    let (_dir, m) = memory();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let m = m.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    m.append("context/log.md", &format!("t{t} line {i}"), "tool").unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let text = m.read("context/log.md").unwrap();
    assert_eq!(text.lines().count(), 80, "{text}");
    assert_eq!(m.store.memory_latest("context/log.md").unwrap().as_deref(), Some(text.as_str()));
    assert_eq!(m.log("context/log.md").unwrap().len(), 80);
}
