use std::io::Write;

use super::*;

const MANIFEST: &str = "name = \"notes\"\nversion = \"0.1.0\"\ncommand = \"python3\"\nargs = [\"server.py\"]\n";

fn tar_gz(entries: &[(&str, &[u8])], extra: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, *data).unwrap();
    }
    extra(&mut builder);
    let raw = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

fn zip_bytes(build: impl FnOnce(&mut zip::ZipWriter<std::io::Cursor<Vec<u8>>>)) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    build(&mut writer);
    writer.finish().unwrap().into_inner()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_tarball_with_a_top_folder_is_staged_and_committed() {
    let tmp = tempfile::tempdir().unwrap();
    let archive =
        tar_gz(&[("notes-0.1.0/plugin.toml", MANIFEST.as_bytes()), ("notes-0.1.0/server.py", b"print()")], |_| {});
    let source = write(tmp.path(), "notes.tar.gz", &archive);
    let staged = stage(&source, &tmp.path().join(".staging"), &TrustedKeys::default()).unwrap();
    assert_eq!(staged.manifest.name, "notes");
    assert_eq!(staged.sha256, hex(&Sha256::digest(&archive)));
    let plugins = tmp.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let target = commit(&staged, &plugins, false).unwrap();
    assert_eq!(std::fs::read(target.join("server.py")).unwrap(), b"print()");
    drop(staged);
    assert!(std::fs::read_dir(tmp.path().join(".staging")).unwrap().next().is_none(), "staging cleaned up");

    let again = stage(&source, &tmp.path().join(".staging"), &TrustedKeys::default()).unwrap();
    assert!(commit(&again, &plugins, false).unwrap_err().to_string().contains("already installed"));
    commit(&again, &plugins, true).unwrap();
}

#[test]
fn a_zip_and_a_folder_install_too() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = zip_bytes(|w| {
        w.start_file("plugin.toml", zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(MANIFEST.as_bytes()).unwrap();
    });
    let staged = stage(&write(tmp.path(), "n.zip", &zip), &tmp.path().join(".s"), &TrustedKeys::default()).unwrap();
    assert_eq!(staged.manifest.name, "notes");

    let folder = tmp.path().join("src");
    std::fs::create_dir(&folder).unwrap();
    write(&folder, "plugin.toml", MANIFEST.as_bytes());
    let a = stage(&folder, &tmp.path().join(".s"), &TrustedKeys::default()).unwrap().sha256.clone();
    write(&folder, "server.py", b"changed");
    let b = stage(&folder, &tmp.path().join(".s"), &TrustedKeys::default()).unwrap().sha256.clone();
    assert_ne!(a, b, "the folder hash covers the contents");
}

#[test]
fn hostile_archives_are_refused_and_nothing_escapes() {
    let tmp = tempfile::tempdir().unwrap();
    let staging = tmp.path().join(".staging");
    let slip_zip = zip_bytes(|w| {
        w.start_file("plugin.toml", zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(MANIFEST.as_bytes()).unwrap();
        w.start_file("../../escaped.txt", zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(b"gotcha").unwrap();
    });
    let err =
        stage(&write(tmp.path(), "slip.zip", &slip_zip), &staging, &TrustedKeys::default()).unwrap_err().to_string();
    assert!(err.contains("unsafe entry"), "{err}");

    let link_zip = zip_bytes(|w| {
        w.add_symlink("plugin.toml", "/etc/passwd", zip::write::SimpleFileOptions::default()).unwrap();
    });
    let err =
        stage(&write(tmp.path(), "link.zip", &link_zip), &staging, &TrustedKeys::default()).unwrap_err().to_string();
    assert!(err.contains("symlinks are not allowed"), "{err}");

    let slip_tar = tar_gz(&[("plugin.toml", MANIFEST.as_bytes())], |b| {
        let mut header = tar::Header::new_gnu();
        let name = b"../escaped.txt";
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_size(6);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        b.append(&header, &b"gotcha"[..]).unwrap();
    });
    let err =
        stage(&write(tmp.path(), "slip.tar.gz", &slip_tar), &staging, &TrustedKeys::default()).unwrap_err().to_string();
    assert!(err.contains("unsafe entry"), "{err}");

    let link_tar = tar_gz(&[("plugin.toml", MANIFEST.as_bytes())], |b| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        b.append_link(&mut header, "evil", "/etc/passwd").unwrap();
    });
    let err =
        stage(&write(tmp.path(), "link.tar.gz", &link_tar), &staging, &TrustedKeys::default()).unwrap_err().to_string();
    assert!(err.contains("links and special files"), "{err}");

    let folder = tmp.path().join("linked");
    std::fs::create_dir(&folder).unwrap();
    write(&folder, "plugin.toml", MANIFEST.as_bytes());
    std::os::unix::fs::symlink("/etc/passwd", folder.join("passwd")).unwrap();
    let err = stage(&folder, &staging, &TrustedKeys::default()).unwrap_err().to_string();
    assert!(err.contains("symlink"), "{err}");

    assert!(!tmp.path().join("escaped.txt").exists() && !tmp.path().parent().unwrap().join("escaped.txt").exists());
}

#[test]
fn an_archive_without_a_valid_manifest_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let none = tar_gz(&[("readme.txt", b"hi")], |_| {});
    let err = stage(&write(tmp.path(), "none.tar.gz", &none), &tmp.path().join(".s"), &TrustedKeys::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no plugin.toml"), "{err}");
    let bad = tar_gz(&[("plugin.toml", b"name = \"x\"\n")], |_| {});
    let err = stage(&write(tmp.path(), "bad.tar.gz", &bad), &tmp.path().join(".s"), &TrustedKeys::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field"), "{err}");
    let err = stage(&write(tmp.path(), "x.rar", b"?"), &tmp.path().join(".s"), &TrustedKeys::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a folder, a .tar.gz or a .zip"), "{err}");
}
