//! What each environment serves: its current flags and segments (the *document*), the
//! snapshot assembled from them, signed, and handed to SDK streams.
//!
//! A snapshot's bytes are a function of the stored definitions, the revision and its
//! time, so any revision can be rebuilt byte for byte (and its Ed25519 signature, which is
//! deterministic, with it).

use crate::error::{ApiError, ApiResult};
use bytes::Bytes;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

/// One version of a flag or segment definition.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The definition in snapshot format v1.
    pub definition: Value,
    /// The environment revision that wrote it.
    pub revision: i64,
    /// When (ms).
    pub at: i64,
    /// Who.
    pub principal: String,
}

/// Flags or segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A flag.
    Flag,
    /// A segment.
    Segment,
}

impl Kind {
    /// The stored name, `flag` or `segment`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Flag => "flag",
            Kind::Segment => "segment",
        }
    }
    /// The snapshot's field for this kind.
    pub fn field(self) -> &'static str {
        match self {
            Kind::Flag => "flags",
            Kind::Segment => "segments",
        }
    }
}

/// Everything in force in one environment at one revision.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// The environment.
    pub environment: String,
    /// Whether changes need a second person.
    pub protected: bool,
    /// The revision.
    pub revision: i64,
    /// When the revision was made (ms): the snapshot's `generatedAt`.
    pub generated_at: i64,
    /// Flags by key.
    pub flags: BTreeMap<String, Arc<Entry>>,
    /// Segments by key.
    pub segments: BTreeMap<String, Arc<Entry>>,
}

impl Document {
    /// The entries of one kind.
    pub fn entries(&self, kind: Kind) -> &BTreeMap<String, Arc<Entry>> {
        match kind {
            Kind::Flag => &self.flags,
            Kind::Segment => &self.segments,
        }
    }
    /// The entries of one kind, to change.
    pub fn entries_mut(&mut self, kind: Kind) -> &mut BTreeMap<String, Arc<Entry>> {
        match kind {
            Kind::Flag => &mut self.flags,
            Kind::Segment => &mut self.segments,
        }
    }

    /// The snapshot's exact bytes: compact JSON, keys sorted, no newline.
    pub fn snapshot_bytes(&self) -> Vec<u8> {
        let collect = |entries: &BTreeMap<String, Arc<Entry>>| {
            Value::Object(
                entries.iter().map(|(key, entry)| (key.clone(), entry.definition.clone())).collect::<Map<_, _>>(),
            )
        };
        let snapshot = json!({
            "schemaVersion": 1,
            "revision": self.revision,
            "generatedAt": crate::time::rfc3339(self.generated_at),
            "environment": self.environment,
            "segments": collect(&self.segments),
            "flags": collect(&self.flags),
        });
        serde_json::to_vec(&snapshot).unwrap_or_default()
    }

    /// Loads the document with core and returns the compiled snapshot, or core's first
    /// problem with a flag or segment that `before` did not already have.
    pub fn compile(&self, before: Option<&Published>) -> ApiResult<(Vec<u8>, pennon_core::Snapshot)> {
        let bytes = self.snapshot_bytes();
        let text = std::str::from_utf8(&bytes).map_err(|e| ApiError::internal(e.to_string()))?;
        let snapshot = pennon_core::Snapshot::from_json(text).map_err(|error| ApiError::refused(&error))?;
        let known = |warning: &pennon_core::Error| {
            before.is_some_and(|before| {
                before.snapshot.warnings().iter().any(|old| old.code == warning.code && old.path == warning.path)
            })
        };
        if let Some(problem) = snapshot.warnings().iter().find(|warning| !known(warning)) {
            return Err(ApiError::refused(problem));
        }
        Ok((bytes, snapshot))
    }
}

/// A signed, compiled snapshot of one revision, ready to serve.
pub struct Published {
    /// The environment.
    pub environment: String,
    /// The revision.
    pub revision: i64,
    /// When it was made (ms).
    pub generated_at: i64,
    /// The exact bytes.
    pub bytes: Bytes,
    /// `"<sha-256 prefix>"`, quoted as HTTP wants it.
    pub etag: String,
    /// Base64 Ed25519 signature of `bytes`.
    pub signature: String,
    /// The compiled snapshot (for evaluation on the server).
    pub snapshot: pennon_core::Snapshot,
    /// The server-sent event announcing it, rendered once for every stream client:
    /// metadata on the first data line, the exact signed bytes on the second.
    pub event: Bytes,
    /// The OFREP change notification (`refetchEvaluation`) announcing it.
    pub ofrep_event: Bytes,
}

impl Published {
    /// Signs and wraps compiled bytes.
    pub fn new(document: &Document, bytes: Vec<u8>, snapshot: pennon_core::Snapshot, key: &SigningKey) -> Published {
        use base64::Engine;
        let signature = base64::engine::general_purpose::STANDARD.encode(key.sign(&bytes).to_bytes());
        let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
        let meta = json!({ "revision": document.revision, "etag": etag, "signature": signature });
        // A snapshot is compact JSON: it holds no newline, so it fits one data line.
        let mut event = format!("event: snapshot\nid: {}\ndata: {meta}\ndata: ", document.revision).into_bytes();
        event.extend_from_slice(&bytes);
        event.extend_from_slice(b"\n\n");
        let notification =
            json!({ "type": "refetchEvaluation", "etag": etag, "lastModified": document.generated_at / 1000 });
        let ofrep_event = format!("id: {}\nevent: message\ndata: {notification}\n\n", document.revision);
        Published {
            event: Bytes::from(event),
            ofrep_event: Bytes::from(ofrep_event),
            environment: document.environment.clone(),
            revision: document.revision,
            generated_at: document.generated_at,
            bytes: Bytes::from(bytes),
            etag,
            signature,
            snapshot,
        }
    }
}

/// One environment as this process holds it.
pub struct Slot {
    /// What is in force.
    pub document: Arc<Document>,
    /// Its published snapshot; streams watch this.
    pub published: watch::Sender<Arc<Published>>,
}

/// Every environment's document and published snapshot.
pub struct Environments {
    slots: RwLock<HashMap<String, Arc<Slot>>>,
    events: crate::events::Hub,
}

impl Environments {
    /// No environment yet; new revisions are announced on `events`.
    pub fn new(events: crate::events::Hub) -> Environments {
        Environments { slots: RwLock::default(), events }
    }
    /// The slot of an environment.
    pub fn slot(&self, environment: &str) -> Option<Arc<Slot>> {
        self.slots.read().ok()?.get(environment).cloned()
    }
    /// The newest published snapshot of an environment.
    pub fn published(&self, environment: &str) -> Option<Arc<Published>> {
        self.slot(environment).map(|slot| slot.published.borrow().clone())
    }
    /// Every environment's key.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.slots.read().map(|slots| slots.keys().cloned().collect()).unwrap_or_default();
        keys.sort();
        keys
    }
    /// A `revision` event: the flags core says may answer differently (all of them for
    /// an environment seen for the first time).
    fn announce(&self, published: &Published, before: Option<&Published>) {
        let changed: Vec<&str> = match before {
            Some(before) => published.snapshot.changed_flags(&before.snapshot),
            None => published.snapshot.flag_keys().collect(),
        };
        let data = json!({
            "environment": published.environment,
            "revision": published.revision,
            "changedFlags": changed,
            "at": crate::time::rfc3339(published.generated_at),
        });
        self.events.send(crate::events::Event::new("revision", Some(&published.environment), data));
    }

    /// Installs a newer document and its published snapshot (an older one is ignored, so
    /// a late reload never goes back in time). Returns whether it was installed.
    pub fn install(&self, document: Document, published: Published) -> bool {
        let Ok(mut slots) = self.slots.write() else { return false };
        let published = Arc::new(published);
        match slots.get(&document.environment) {
            Some(slot) if slot.document.revision > document.revision => false,
            Some(slot)
                if slot.document.revision == document.revision && slot.document.protected == document.protected =>
            {
                false
            }
            Some(slot) => {
                let sender = slot.published.clone();
                let revision_changed = slot.document.revision != document.revision;
                let environment = document.environment.clone();
                slots.insert(environment, Arc::new(Slot { document: Arc::new(document), published: sender.clone() }));
                if revision_changed {
                    let before = sender.send_replace(published.clone());
                    self.announce(&published, Some(&before));
                }
                true
            }
            None => {
                self.announce(&published, None);
                let (sender, _) = watch::channel(published);
                slots.insert(
                    document.environment.clone(),
                    Arc::new(Slot { document: Arc::new(document), published: sender }),
                );
                true
            }
        }
    }
}
