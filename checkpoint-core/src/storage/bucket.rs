//! Checkpoints in an object store (S3, Google Cloud Storage, Azure Blob
//! Storage), with the `object-store` feature: one object per generation,
//! each written by a single PUT, the newest found by listing.
//!
//! `object_store` is async; a small current-thread tokio runtime owned by
//! the bucket drives it, and the compute and writer threads call the
//! blocking methods here.

use std::error::Error as StdError;
use std::future::Future;
use std::path::{Path as FilePath, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path;
use object_store::{
    BackoffConfig, ObjectStore, ObjectStoreExt, ObjectStoreScheme, PutMode, PutOptions, PutPayload,
    RetryConfig,
};

use crate::error::{Error, Result};
use crate::storage::store::{
    Generation, Kind, STALE_SUFFIX, check_stem, numbered_name, split_numbered_name,
};

mod lock;

pub(crate) use lock::{BucketLock, LockRules};

/// One connection to a bucket and a prefix in it, shared by a run's store
/// and its lock.
#[derive(Debug)]
pub(crate) struct Bucket {
    runtime: tokio::runtime::Runtime,
    store: Arc<dyn ObjectStore>,
    /// The objects' common prefix ("" for the bucket's root).
    prefix: Path,
    /// The URL of the prefix, without a trailing `/`: names objects in
    /// messages.
    url: String,
    /// Set when another process took over this run's lock: from then on
    /// this process must not write, prune or delete anything.
    lost_lock: AtomicBool,
}

impl Bucket {
    /// Connects (lazily: no request is made) to the bucket and prefix of
    /// `url` (`s3://bucket/prefix`, `gs://...`, `az://container/prefix`),
    /// with credentials and settings from the environment as each
    /// provider's tools read them (`AWS_*`, `GOOGLE_*`, `AZURE_*`).
    pub(crate) fn connect(url: &str) -> Result<Bucket> {
        let url = url.trim_end_matches('/');
        let invalid = |reason: String| Error::InvalidOption {
            option: "dir",
            reason: format!("{url}: {reason}"),
        };
        let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        let (scheme, path) =
            ObjectStoreScheme::parse(&parsed).map_err(|e| invalid(e.to_string()))?;
        let prefix = Path::parse(path).map_err(|e| invalid(e.to_string()))?;
        // The default (10 retries within 3 minutes) would stall a run whose
        // store is unreachable for minutes at every save; a failed save is
        // retried at the next due point anyway.
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
        };
        let built = match scheme {
            ObjectStoreScheme::AmazonS3 => AmazonS3Builder::from_env()
                .with_url(url)
                .with_retry(retry)
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>),
            ObjectStoreScheme::GoogleCloudStorage => GoogleCloudStorageBuilder::from_env()
                .with_url(url)
                .with_retry(retry)
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>),
            ObjectStoreScheme::MicrosoftAzure => MicrosoftAzureBuilder::from_env()
                .with_url(url)
                .with_retry(retry)
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>),
            _ => {
                return Err(invalid(
                    "not an object store URL this build supports (s3://, gs://, az://)".into(),
                ));
            }
        };
        let store = built.map_err(|e| Error::bucket("connect to", url, e))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::bucket("start the I/O runtime for", url, e))?;
        Ok(Bucket {
            runtime,
            store,
            prefix,
            url: url.to_owned(),
            lost_lock: AtomicBool::new(false),
        })
    }

    /// Runs one request to completion on the bucket's runtime. Any thread
    /// may call it, several at once (tokio's current-thread runtime lets
    /// each `block_on` drive the I/O in turn).
    fn block_on<F: Future>(&self, request: F) -> F::Output {
        self.runtime.block_on(request)
    }

    /// The object called `name` under the prefix.
    fn object(&self, name: &str) -> Path {
        self.prefix.clone().join(name)
    }

    /// The URL of the object called `name`, as a path for messages and
    /// for [`Generation::path`].
    fn url_of(&self, name: &str) -> PathBuf {
        PathBuf::from(format!("{}/{name}", self.url))
    }

    /// The names of the objects directly under the prefix.
    fn list_names(&self) -> Result<Vec<String>> {
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        let listed = self
            .block_on(self.store.list_with_delimiter(prefix))
            .map_err(|e| Error::bucket("list", &self.url, e))?;
        Ok(listed
            .objects
            .into_iter()
            .filter_map(|meta| meta.location.filename().map(str::to_owned))
            .collect())
    }

    /// Refuses to change anything once the lock is lost.
    fn check_lock_held(&self, action: &'static str, name: &str) -> Result<()> {
        if self.lost_lock.load(Ordering::SeqCst) {
            return Err(Error::bucket(
                action,
                &self.url_of(name).display().to_string(),
                "this run lost its lock to another process (see the warning above), so it no longer writes checkpoints",
            ));
        }
        Ok(())
    }
}

/// The generations of one run (one `stem`) under a bucket's prefix: the
/// object-store counterpart of [`crate::storage::store::DirStore`], with the same
/// names (`{stem}.g{N:08}.ckpt`) and the same promises.
#[derive(Debug)]
pub(crate) struct BucketStore {
    bucket: Arc<Bucket>,
    stem: String,
    kind: Kind,
}

impl BucketStore {
    /// The store of run `stem` in `bucket`.
    pub(crate) fn new(bucket: Arc<Bucket>, stem: &str) -> Result<BucketStore> {
        check_stem(stem)?;
        Ok(BucketStore {
            bucket,
            stem: stem.to_owned(),
            kind: Kind::Checkpoint,
        })
    }

    /// The same store holding objects of `kind`.
    pub(crate) fn of_kind(mut self, kind: Kind) -> BucketStore {
        self.kind = kind;
        self
    }

    /// Every generation of this run, newest first.
    pub(crate) fn list_generations(&self) -> Result<Vec<Generation>> {
        let mut generations: Vec<Generation> = self
            .bucket
            .list_names()?
            .into_iter()
            .filter_map(|name| {
                let (stem, number) = split_numbered_name(&name, self.kind.extension())?;
                (stem == self.stem).then(|| Generation {
                    number,
                    path: self.bucket.url_of(&name),
                })
            })
            .collect();
        generations.sort_by_key(|g| std::cmp::Reverse(g.number));
        Ok(generations)
    }

    /// Writes generation `number` with one PUT and returns its URL.
    ///
    /// A PUT is atomic in S3, GCS and Azure: readers see the previous
    /// object (here: none) or the whole new one, never part of it, and
    /// the store answers only once the object is durably stored. So the
    /// temp-file, fsync and rename steps of a directory have no
    /// counterpart, and nothing is left behind by a process killed
    /// mid-save.
    ///
    /// A commit record is a conditional PUT (`If-None-Match: *`): it is
    /// created once, never replaced, so two jobs that somehow share a run
    /// cannot overwrite each other's commit.
    pub(crate) fn write_generation(&self, number: u64, bytes: &[u8]) -> Result<PathBuf> {
        let name = numbered_name(&self.stem, number, self.kind.extension());
        self.bucket.check_lock_held("write", &name)?;
        let payload = PutPayload::from(bytes.to_vec());
        let object = self.bucket.object(&name);
        let put = match self.kind {
            Kind::Checkpoint => self
                .bucket
                .block_on(self.bucket.store.put(&object, payload)),
            Kind::Commit => self.bucket.block_on(self.bucket.store.put_opts(
                &object,
                payload,
                PutOptions::from(PutMode::Create),
            )),
        };
        put.map_err(|e| self.error("write", &name, e))?;
        Ok(self.bucket.url_of(&name))
    }

    /// Reads a whole generation.
    pub(crate) fn read(&self, path: &FilePath) -> Result<Vec<u8>> {
        let name = object_name(path);
        let object = self.bucket.object(name);
        self.bucket
            .block_on(async {
                let got = self.bucket.store.get(&object).await?;
                got.bytes().await
            })
            .map(|bytes| bytes.to_vec())
            .map_err(|e| self.error("read", name, e))
    }

    /// Deletes all but the newest `keep` generations. Call it only after
    /// the newest generation is written. Tries every deletion and returns
    /// the first error.
    pub(crate) fn prune(&self, keep: usize) -> Result<()> {
        self.delete_generations(self.list_generations()?.into_iter().skip(keep))
    }

    /// The URL of the object called `name` under the prefix.
    pub(crate) fn sibling(&self, name: &str) -> PathBuf {
        self.bucket.url_of(name)
    }

    /// Deletes every generation numbered below `number` (see
    /// [`crate::storage::store::DirStore::prune_below`]).
    pub(crate) fn prune_below(&self, number: u64) -> Result<()> {
        let old = self.list_generations()?.into_iter();
        self.delete_generations(old.filter(|g| g.number < number))
    }

    /// Deletes generations `old`, trying every one; returns the first error.
    fn delete_generations(&self, old: impl Iterator<Item = Generation>) -> Result<()> {
        let mut first_error = None;
        for old in old {
            if let Err(err) = self.delete(object_name(&old.path)) {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Copies a bad or stale generation to `{name}.stale` (or
    /// `.stale.1`, ...), deletes the original, and returns the new URL.
    /// Object stores have no rename; the caller holds the run's lock, so
    /// nobody else writes these names meanwhile.
    pub(crate) fn move_aside(&self, path: &FilePath, why: &str) -> Result<PathBuf> {
        let name = object_name(path);
        self.bucket.check_lock_held("move aside", name)?;
        let taken = self.bucket.list_names()?;
        let base = format!("{name}{STALE_SUFFIX}");
        let aside = std::iter::once(base.clone())
            .chain((1..).map(|n| format!("{base}.{n}")))
            .find(|candidate| !taken.contains(candidate))
            .unwrap_or(base);
        let (from, to) = (self.bucket.object(name), self.bucket.object(&aside));
        self.bucket
            .block_on(self.bucket.store.copy(&from, &to))
            .map_err(|e| self.error("move aside", name, e))?;
        self.delete(name)?;
        let aside = self.bucket.url_of(&aside);
        tracing::debug!(from = %path.display(), to = %aside.display(), why, "moved checkpoint aside");
        Ok(aside)
    }

    /// Deletes every generation of this run (after the computation
    /// completed).
    pub(crate) fn remove_all(&self) -> Result<()> {
        self.prune(0)
    }

    fn delete(&self, name: &str) -> Result<()> {
        self.bucket.check_lock_held("delete", name)?;
        match self
            .bucket
            .block_on(self.bucket.store.delete(&self.bucket.object(name)))
        {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error("delete", name, e)),
        }
    }

    fn error(
        &self,
        action: &'static str,
        name: &str,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Error {
        Error::bucket(
            action,
            &self.bucket.url_of(name).display().to_string(),
            source,
        )
    }
}

/// The object name in a generation's URL (its last component).
fn object_name(path: &FilePath) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
