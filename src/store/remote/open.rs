//! Opening a store from its URL: the location parsed, credentials refused in it, the
//! object store built over this crate's HTTP client.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use object_store::path::Path as ObjPath;
use object_store::{BackoffConfig, ObjectStore, RetryConfig};

use super::{MAX_RETRIES, RemoteStore, Transfers, bad, one_line};
use crate::store::StoreError;
use crate::store::cache::Cache;
use crate::store::connector::Connector;

impl RemoteStore {
    /// Opens the store at `location`, keeping downloaded images in `cache_dir`. Nothing
    /// is requested yet.
    ///
    /// # Errors
    /// [`StoreError::BadLocation`] for a URL that is not a usable store location.
    pub fn open(location: &str, cache_dir: &std::path::Path) -> Result<Self, StoreError> {
        Self::open_with(location, cache_dir, &[])
    }

    /// [`RemoteStore::open`] with `object_store` configuration keys that override the
    /// environment, e.g. `("aws_endpoint", "http://127.0.0.1:9000")`, for embedders and
    /// tests that must not touch the process environment.
    ///
    /// # Errors
    /// As [`RemoteStore::open`]; an unknown configuration key.
    pub fn open_with(
        location: &str,
        cache_dir: &std::path::Path,
        config: &[(&str, &str)],
    ) -> Result<Self, StoreError> {
        let url =
            url::Url::parse(location).map_err(|e| bad(location, format!("is not a URL: {e}")))?;
        if !url.username().is_empty() || url.password().is_some() {
            // Never echo the URL itself here: it holds the secret.
            return Err(StoreError::BadLocation {
                location: format!("{}://…", url.scheme()),
                why: "holds credentials: set them in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT_KEY ...) instead".into(),
            });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad(
                location,
                "has a query or fragment; use scheme://bucket/prefix",
            ));
        }
        let Some(bucket) = url.host_str().filter(|b| !b.is_empty()) else {
            return Err(bad(location, "names no bucket; use scheme://bucket/prefix"));
        };
        let prefix = url.path().trim_matches('/').to_string();
        let prefix_path = ObjPath::parse(&prefix)
            .map_err(|e| bad(location, format!("has an unusable prefix: {e}")))?;
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_secs(5),
                base: 2.0,
            },
            max_retries: MAX_RETRIES,
            retry_timeout: Duration::from_secs(60),
        };
        let base = format!("{}://{bucket}", url.scheme());
        macro_rules! configured {
            ($builder:expr, $key:ty) => {{
                let mut b = $builder;
                for (k, v) in config {
                    let key: $key = k
                        .parse()
                        .map_err(|_| bad(location, format!("cannot take option `{k}`")))?;
                    b = b.with_config(key, *v);
                }
                b
            }};
        }
        let store: Arc<dyn ObjectStore> = match url.scheme() {
            "s3" => Arc::new(
                configured!(
                    object_store::aws::AmazonS3Builder::from_env(),
                    object_store::aws::AmazonS3ConfigKey
                )
                .with_url(&base)
                .with_retry(retry)
                .with_http_connector(Connector)
                .build()
                .map_err(|e| bad(location, one_line(&e.to_string())))?,
            ),
            "gs" => Arc::new(
                configured!(
                    object_store::gcp::GoogleCloudStorageBuilder::from_env(),
                    object_store::gcp::GoogleConfigKey
                )
                .with_url(&base)
                .with_retry(retry)
                .with_http_connector(Connector)
                .build()
                .map_err(|e| bad(location, one_line(&e.to_string())))?,
            ),
            "az" => Arc::new(
                configured!(
                    object_store::azure::MicrosoftAzureBuilder::from_env(),
                    object_store::azure::AzureConfigKey
                )
                .with_url(&base)
                .with_retry(retry)
                .with_http_connector(Connector)
                .build()
                .map_err(|e| bad(location, one_line(&e.to_string())))?,
            ),
            other => {
                return Err(bad(
                    location,
                    format!("has scheme `{other}`; use a folder, s3://, gs:// or az://"),
                ));
            }
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| bad(location, format!("cannot start the async runtime: {e}")))?;
        let display = if prefix.is_empty() {
            base
        } else {
            format!("{base}/{prefix}")
        };
        Ok(Self {
            url: display,
            prefix: prefix_path,
            store,
            cache: Cache::new(cache_dir),
            rt,
            bases: Mutex::new(HashMap::new()),
            known: Mutex::new(HashSet::new()),
            transfers: Transfers::default(),
        })
    }
}
