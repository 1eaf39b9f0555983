//! Content hashes of artifacts (blake3, hex): one file, or a folder as a sorted manifest.

use std::io::{self, Read};
use std::path::Path;

/// Bytes read at a time; each piece is hashed on every core (blake3's tree mode), so a large
/// artifact hashes at memory speed without being mapped (a mapped file truncated by someone
/// else would kill the process).
const PIECE: usize = 8 << 20;

/// blake3 (hex) and size of one file, streamed.
pub fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut hasher = blake3::Hasher::new();
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut buf = vec![0u8; PIECE.min(usize::try_from(len).unwrap_or(PIECE)).max(1)];
    let mut total = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n >= 1 << 20 {
            hasher.update_rayon(&buf[..n]);
        } else {
            hasher.update(&buf[..n]);
        }
        total += n as u64;
    }
    Ok((hasher.finalize().to_hex().to_string(), total))
}

/// blake3 (hex) and total size of a folder: a hash over its files' relative paths (sorted,
/// `/`-separated) and content hashes, so renames and edits both change it.
pub fn hash_tree(dir: &Path) -> io::Result<(String, u64)> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let mut hasher = blake3::Hasher::new();
    let mut total = 0;
    for rel in files {
        let (h, n) = hash_file(&dir.join(&rel))?;
        total += n;
        for part in [rel.as_bytes(), h.as_bytes()] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
    }
    Ok((hasher.finalize().to_hex().to_string(), total))
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let rel: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            out.push(rel.join("/"));
        }
    }
    Ok(())
}

/// A file's or a folder's hash.
pub fn hash_path(path: &Path) -> io::Result<(String, u64)> {
    if path.is_dir() { hash_tree(path) } else { hash_file(path) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_hash_sees_names_and_contents() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("t");
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("a.txt"), b"one").unwrap();
        std::fs::write(d.join("sub/b.txt"), b"two").unwrap();
        let (h1, n) = hash_tree(&d).unwrap();
        assert_eq!(n, 6);
        assert_eq!(hash_tree(&d).unwrap().0, h1);
        std::fs::write(d.join("sub/b.txt"), b"tWo").unwrap();
        let (h2, _) = hash_tree(&d).unwrap();
        assert_ne!(h1, h2);
        std::fs::rename(d.join("sub/b.txt"), d.join("sub/c.txt")).unwrap();
        assert_ne!(hash_tree(&d).unwrap().0, h2);
        // A file's hash is blake3 of its bytes, whether it is read in one piece or several.
        assert_eq!(hash_file(&d.join("a.txt")).unwrap().0, blake3::hash(b"one").to_hex().to_string());
        let big: Vec<u8> = (0..PIECE * 2 + 12345).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(d.join("big"), &big).unwrap();
        assert_eq!(hash_file(&d.join("big")).unwrap(), (blake3::hash(&big).to_hex().to_string(), big.len() as u64));
    }
}
