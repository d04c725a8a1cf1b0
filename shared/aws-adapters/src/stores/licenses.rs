//! [`LicenseStore`]: licenses and, in their own items, their activity figures.

use std::collections::BTreeMap;

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use super::keys::{conn_pk, license_activity_sk, license_sk};
use super::{Records, encode};
use crate::backend::{Index, Item, Query, SkCond};
use crate::table::{PK, SK};
use ports::{LicenseActivity, LicenseRecord, LicenseStore, StoreError};

/// A license's activity figures, as License Differentiation stores them.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredLicenseActivity {
    account_id: String,
    license_id: String,
    activity: LicenseActivity,
}

impl Records {
    fn license_item(cid: &str, license: &LicenseRecord) -> Result<Item, StoreError> {
        // The activity lives in its own item (see `replace_account_license_activity`).
        let record = LicenseRecord {
            activity: None,
            ..license.clone()
        };
        encode(
            &record,
            &[
                (PK, conn_pk(cid)),
                (SK, license_sk(&license.account_id, &license.license_id)),
            ],
            None,
        )
    }

    /// Licenses under `sk_prefix` (`LIC#` or `LIC#{aid}#`) with the activity items joined in.
    fn licenses_with_activity<'a>(
        &'a self,
        cid: &'a str,
        account_id: Option<&'a str>,
    ) -> BoxStream<'a, Result<LicenseRecord, StoreError>> {
        let suffix = account_id.map(|a| format!("{a}#")).unwrap_or_default();
        let activity_query = Query::new(
            Index::Primary,
            conn_pk(cid),
            SkCond::BeginsWith(format!("LICACT#{suffix}")),
        );
        let license_query = Query::new(
            Index::Primary,
            conn_pk(cid),
            SkCond::BeginsWith(format!("LIC#{suffix}")),
        );
        stream::once(async move {
            let activity: BTreeMap<(String, String), LicenseActivity> = self
                .decoded::<StoredLicenseActivity>(activity_query)
                .map_ok(|a| ((a.account_id, a.license_id), a.activity))
                .try_collect()
                .await?;
            Ok::<_, StoreError>(self.decoded::<LicenseRecord>(license_query).map_ok(
                move |mut l| {
                    l.activity = activity
                        .get(&(l.account_id.clone(), l.license_id.clone()))
                        .cloned();
                    l
                },
            ))
        })
        .try_flatten()
        .boxed()
    }
}

#[async_trait]
impl LicenseStore for Records {
    async fn replace_account_licenses(
        &self,
        cid: &str,
        account_id: &str,
        licenses: &[LicenseRecord],
    ) -> Result<(), StoreError> {
        let items = licenses
            .iter()
            .map(|l| {
                Ok((
                    license_sk(account_id, &l.license_id),
                    Self::license_item(cid, l)?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.replace_under_prefix(conn_pk(cid), format!("LIC#{account_id}#"), items)
            .await
    }

    fn list_licenses<'a>(
        &'a self,
        cid: &'a str,
    ) -> BoxStream<'a, Result<LicenseRecord, StoreError>> {
        self.licenses_with_activity(cid, None)
    }

    fn list_account_licenses<'a>(
        &'a self,
        cid: &'a str,
        account_id: &'a str,
    ) -> BoxStream<'a, Result<LicenseRecord, StoreError>> {
        self.licenses_with_activity(cid, Some(account_id))
    }

    async fn insert_license_if_missing(
        &self,
        cid: &str,
        license: &LicenseRecord,
    ) -> Result<bool, StoreError> {
        self.put_new(Self::license_item(cid, license)?).await
    }

    async fn replace_account_license_activity(
        &self,
        cid: &str,
        account_id: &str,
        activity: &BTreeMap<String, LicenseActivity>,
    ) -> Result<(), StoreError> {
        let items = activity
            .iter()
            .map(|(license_id, a)| {
                let sk = license_activity_sk(account_id, license_id);
                let record = StoredLicenseActivity {
                    account_id: account_id.to_owned(),
                    license_id: license_id.clone(),
                    activity: a.clone(),
                };
                Ok((
                    sk.clone(),
                    encode(&record, &[(PK, conn_pk(cid)), (SK, sk)], None)?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.replace_under_prefix(conn_pk(cid), format!("LICACT#{account_id}#"), items)
            .await
    }
}
