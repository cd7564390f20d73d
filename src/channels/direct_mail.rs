//! The direct-mail provider: "sending" writes one line of a CSV extraction file per message, one
//! file per delivery (`direct-mail-delivery-<id>.csv`) in the credential's folder, for the
//! printer or mail house. The columns are those chosen in the activity; the first column is the
//! idempotency key, so crash recovery can look a message up in the file and nothing is written
//! twice.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::registry::{Entry, Parts};
use super::{Answer, Capabilities, ChannelError, Outgoing, Provider, SendError};
use crate::model::provider::{FieldKind, field};
use crate::model::settings::{self, ProviderSettings};
use crate::model::{Channel, ProviderKind};

pub const KEY_COLUMN: &str = "idempotency_key";

pub struct DirectMail {
    folder: PathBuf,
    /// Open files by delivery id, and the keys each holds once it has been read (recovery).
    files: Mutex<HashMap<i64, File>>,
    keys: Mutex<HashMap<i64, HashSet<String>>>,
}

/// Direct mail in the provider registry: an extraction file per delivery, for a printer.
pub const ENTRY: Entry = Entry {
    kind: ProviderKind::FileExport,
    channels: &[Channel::DirectMail],
    first_on: &[],
    fields: &[field("folder", "Folder", FieldKind::Folder, "where extraction files are written")],
    paced: false,
    problems: |settings| match settings {
        ProviderSettings::FileExport(s) => {
            DirectMail::read(s).err().map(|e| ("folder", e.to_string())).into_iter().collect()
        }
        _ => Vec::new(),
    },
    build: |parts: Parts<'_>| match parts.settings {
        ProviderSettings::FileExport(s) => Ok((Arc::new(DirectMail::read(s)?), 1)),
        other => Err(ChannelError::mismatch(ProviderKind::FileExport, other)),
    },
};

impl DirectMail {
    /// Checks the credential's folder (it must exist and be a folder).
    pub fn read(settings: &settings::DirectMail) -> Result<Self, ChannelError> {
        let folder = settings.folder.trim();
        if folder.is_empty() {
            return Err("the folder to write extraction files to is missing".into());
        }
        let folder = PathBuf::from(folder);
        if !folder.is_dir() {
            return Err(format!("the folder {} does not exist", folder.display()).into());
        }
        Ok(Self::new(folder))
    }

    pub fn new(folder: PathBuf) -> Self {
        Self { folder, files: Mutex::new(HashMap::new()), keys: Mutex::new(HashMap::new()) }
    }

    /// The extraction file of a delivery.
    pub fn file_of(folder: &Path, delivery: i64) -> PathBuf {
        folder.join(format!("direct-mail-delivery-{delivery}.csv"))
    }

    fn delivery_of(key: &str) -> Result<i64, SendError> {
        key.split(':')
            .next()
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| SendError::permanent("bad_key", format!("{key} names no delivery")))
    }

    fn io(e: &std::io::Error, path: &Path) -> SendError {
        // A full disk or a folder gone may pass; the row is retried.
        SendError::transient("file", format!("{}: {e}", path.display()))
    }

    fn write(&self, m: &Outgoing) -> Result<String, SendError> {
        let delivery = Self::delivery_of(&m.idempotency_key)?;
        let path = Self::file_of(&self.folder, delivery);
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        let file = match files.entry(delivery) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(open_repaired(&path).map_err(|e| Self::io(&e, &path))?)
            }
        };
        let mut line = csv::WriterBuilder::new().from_writer(Vec::new());
        let empty = file.metadata().map_err(|e| Self::io(&e, &path))?.len() == 0;
        if empty {
            let mut header = vec![KEY_COLUMN];
            header.extend(m.fields.iter().map(|(name, _)| name.as_str()));
            line.write_record(&header).map_err(|e| SendError::permanent("file", e.to_string()))?;
        }
        let mut record = vec![m.idempotency_key.as_str()];
        record.extend(m.fields.iter().map(|(_, value)| value.as_str()));
        line.write_record(&record).map_err(|e| SendError::permanent("file", e.to_string()))?;
        let bytes = line.into_inner().map_err(|e| SendError::permanent("file", e.to_string()))?;
        // One write per line: a crash leaves whole lines, or a torn last one that the next
        // opening cuts off.
        file.write_all(&bytes).map_err(|e| Self::io(&e, &path))?;
        file.flush().map_err(|e| Self::io(&e, &path))?;
        if let Some(keys) = self.keys.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&delivery) {
            keys.insert(m.idempotency_key.clone());
        }
        Ok(m.idempotency_key.clone())
    }

    fn find(&self, key: &str) -> Result<Option<String>, SendError> {
        let delivery = Self::delivery_of(key)?;
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let set = match keys.entry(delivery) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let path = Self::file_of(&self.folder, delivery);
                let set = match File::open(&path) {
                    Ok(f) => keys_in(f).map_err(|e| Self::io(&e, &path))?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashSet::new(),
                    Err(e) => return Err(Self::io(&e, &path)),
                };
                e.insert(set)
            }
        };
        Ok(set.get(key).cloned())
    }
}

/// Opens a file for appending, cutting off a last line a crash left without its end.
fn open_repaired(path: &Path) -> std::io::Result<File> {
    let mut file = OpenOptions::new().create(true).read(true).append(true).open(path)?;
    let len = file.metadata()?.len();
    if len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            let mut content = Vec::new();
            file.seek(SeekFrom::Start(0))?;
            file.read_to_end(&mut content)?;
            let keep = content.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            file.set_len(keep as u64)?;
        }
    }
    Ok(file)
}

/// The keys (first column) of the whole lines of an extraction file.
fn keys_in(file: File) -> std::io::Result<HashSet<String>> {
    let mut set = HashSet::new();
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || !line.ends_with('\n') {
            break;
        }
        let key = line.split(',').next().unwrap_or("").trim_matches('"');
        if key != KEY_COLUMN && !key.is_empty() {
            set.insert(key.to_owned());
        }
    }
    Ok(set)
}

impl Provider for DirectMail {
    fn name(&self) -> &str {
        "Direct mail"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { lookup: true, ..Capabilities::default() }
    }

    fn send<'a>(&'a self, m: &'a Outgoing) -> Answer<'a, String> {
        Box::pin(async move { self.write(m) })
    }

    fn lookup<'a>(&'a self, message: &'a Outgoing, _since: jiff::Timestamp) -> Answer<'a, Option<String>> {
        Box::pin(async move { self.find(&message.idempotency_key) })
    }

    fn verify(&self) -> Answer<'_, String> {
        Box::pin(async move {
            let probe = self.folder.join(".campaign-console-write-check");
            std::fs::write(&probe, b"")
                .and_then(|()| std::fs::remove_file(&probe))
                .map_err(|e| SendError::permanent("file", format!("cannot write to {}: {e}", self.folder.display())))?;
            Ok(format!("{} exists and can be written to", self.folder.display()))
        })
    }
}
