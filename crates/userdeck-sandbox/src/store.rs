//! The three CRMs' user stores, each behind its own lock, optionally kept on disk.
//!
//! Every check-then-write (unique e-mail, unique username, "last super admin") happens inside one
//! critical section, so parallel requests can never both win a unique value or lose an update.
//! With `--data FILE` the whole snapshot is rewritten atomically (temp file + rename) after each
//! write; without it the stores live in memory only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::seed;

/// A Capsule user; the e-mail and names live on the user's party, as in Capsule.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CapsuleUser {
    pub id: u64,
    pub username: String,
    pub party_id: u64,
    pub email_id: u64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: String,
    pub job_title: Option<String>,
    pub locale: String,
    pub currency: String,
    pub timezone: String,
    pub task_reminder: bool,
    pub email_preference: String,
    pub click_to_call: String,
    pub status: String,
    pub last_login_at: Option<i64>,
    pub created_at: i64,
}

/// Capsule's store: users are read-only through the API.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CapsuleStore {
    pub users: Vec<CapsuleUser>,
}

/// An App CRM (Concord) user; the password is kept only as a salted hash.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppCrmUser {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub password_salt: String,
    pub password_hash: String,
    pub timezone: String,
    pub locale: String,
    pub mail_signature: Option<String>,
    pub super_admin: bool,
    pub access_api: bool,
    pub time_format: String,
    pub date_format: String,
    pub default_landing_page: String,
    pub first_day_of_week: u8,
    pub roles: Vec<String>,
    pub unread_notifications: u32,
    pub created_at: i64,
    pub updated_at: i64,
}

/// App CRM's store: users and Sanctum personal access tokens.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AppCrmStore {
    pub users: BTreeMap<u64, AppCrmUser>,
    pub next_id: u64,
    /// token string -> user id
    pub tokens: BTreeMap<String, u64>,
    pub next_token_id: u64,
}

/// A Zurmo e-mail sub-object.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ZurmoEmail {
    pub id: u64,
    pub email_address: Option<String>,
    pub is_invalid: Option<bool>,
    pub opt_out: Option<bool>,
}

/// A Zurmo address sub-object.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ZurmoAddress {
    pub id: u64,
    pub city: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub state: Option<String>,
}

/// A Zurmo user; text attributes are optional strings as in the PHP model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ZurmoUser {
    pub id: u64,
    pub username: String,
    pub password_salt: String,
    pub password_hash: String,
    pub created: i64,
    pub modified: i64,
    pub created_by: u64,
    pub modified_by: u64,
    pub language: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub is_active: bool,
    pub last_login: Option<i64>,
    pub is_root_user: bool,
    /// Member of Super Administrators: may create, update and delete users.
    pub is_super: bool,
    /// Holds the "API login" right.
    pub api_login: bool,
    pub currency_id: Option<u64>,
    pub manager_id: Option<u64>,
    pub department: Option<String>,
    pub first_name: Option<String>,
    pub job_title: Option<String>,
    pub last_name: Option<String>,
    pub mobile_phone: Option<String>,
    pub office_phone: Option<String>,
    pub office_fax: Option<String>,
    pub primary_address: Option<ZurmoAddress>,
    pub primary_email: Option<ZurmoEmail>,
    pub secondary_email: Option<ZurmoEmail>,
    pub title: Option<(u64, String)>,
}

/// Zurmo's store.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ZurmoStore {
    pub users: BTreeMap<u64, ZurmoUser>,
    pub next_id: u64,
    /// Ids for owned sub-objects (e-mails, addresses, titles).
    pub next_sub_id: u64,
}

/// Everything that `--data FILE` keeps.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub capsule: CapsuleStore,
    pub appcrm: AppCrmStore,
    pub zurmo: ZurmoStore,
}

/// The live stores.
pub struct Stores {
    capsule: Mutex<CapsuleStore>,
    appcrm: Mutex<AppCrmStore>,
    zurmo: Mutex<ZurmoStore>,
    disk: Option<Disk>,
}

struct Disk {
    path: PathBuf,
    /// Bumped after every write to a store.
    generation: AtomicU64,
    /// The generation last written to disk; the lock also serialises file writes.
    written: tokio::sync::Mutex<u64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a store half-written (every write is a single
    // assignment after validation), so a poisoned lock is safe to keep using.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Stores {
    /// Loads `data` if it exists, else seeds (and writes `data` if given).
    pub fn open(seed: u64, users: usize, data: Option<&Path>) -> Result<Stores, Error> {
        let snapshot = match data {
            Some(path) if path.exists() => {
                let bytes = std::fs::read(path)?;
                serde_json::from_slice::<Snapshot>(&bytes).map_err(|e| {
                    Error::Data(format!("{}: not a sandbox data file: {e}", path.display()))
                })?
            }
            _ => seed::snapshot(seed, users),
        };
        let stores = Stores {
            capsule: Mutex::new(snapshot.capsule),
            appcrm: Mutex::new(snapshot.appcrm),
            zurmo: Mutex::new(snapshot.zurmo),
            disk: data.map(|path| Disk {
                path: path.to_path_buf(),
                generation: AtomicU64::new(1),
                written: tokio::sync::Mutex::new(0),
            }),
        };
        if let Some(disk) = &stores.disk {
            write_atomically(&disk.path, &stores.snapshot())?;
        }
        Ok(stores)
    }

    /// Capsule's store, locked.
    pub fn capsule(&self) -> MutexGuard<'_, CapsuleStore> {
        lock(&self.capsule)
    }

    /// App CRM's store, locked.
    pub fn appcrm(&self) -> MutexGuard<'_, AppCrmStore> {
        lock(&self.appcrm)
    }

    /// Zurmo's store, locked.
    pub fn zurmo(&self) -> MutexGuard<'_, ZurmoStore> {
        lock(&self.zurmo)
    }

    /// Replaces every store with freshly seeded data.
    pub fn reset(&self, seed: u64, users: usize) {
        let fresh = seed::snapshot(seed, users);
        *self.capsule() = fresh.capsule;
        *self.appcrm() = fresh.appcrm;
        *self.zurmo() = fresh.zurmo;
        self.touch();
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            capsule: self.capsule().clone(),
            appcrm: self.appcrm().clone(),
            zurmo: self.zurmo().clone(),
        }
    }

    /// Records that a store changed; call while or after holding its lock, then `persist`.
    pub fn touch(&self) {
        if let Some(disk) = &self.disk {
            disk.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Writes the stores to disk if they changed since the last write (no-op in memory mode).
    pub async fn persist(&self) {
        let Some(disk) = &self.disk else { return };
        let mut written = disk.written.lock().await;
        let generation = disk.generation.load(Ordering::SeqCst);
        if *written >= generation {
            return;
        }
        let snapshot = self.snapshot();
        let path = disk.path.clone();
        let result = tokio::task::spawn_blocking(move || write_atomically(&path, &snapshot)).await;
        match result {
            Ok(Ok(())) => *written = generation,
            Ok(Err(e)) => eprintln!("userdeck-sandbox: could not write data file: {e}"),
            Err(e) => eprintln!("userdeck-sandbox: data file writer failed: {e}"),
        }
    }
}

fn write_atomically(path: &Path, snapshot: &Snapshot) -> Result<(), Error> {
    let bytes = serde_json::to_vec(snapshot).map_err(|e| Error::Data(e.to_string()))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// A salted SHA-256 of a password; the sandbox never stores or returns plain passwords.
pub fn hash_password(salt: &str, password: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update([0u8]);
    hasher.update(password.as_bytes());
    hex(&hasher.finalize())
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
