//! [`CandidateStore`]: reclamation candidates, in the account's user partition.

use async_trait::async_trait;
use futures::stream::BoxStream;

use super::keys::{CANDIDATE_PREFIX, users_pk};
use super::{Records, encode};
use crate::backend::WriteOp;
use crate::table::{PK, SK};
use ports::{CandidateStore, ReclamationCandidate, StoreError};

fn candidate_sk(user_key: &str) -> String {
    format!("{CANDIDATE_PREFIX}{user_key}")
}

#[async_trait]
impl CandidateStore for Records {
    async fn put_candidates(
        &self,
        cid: &str,
        candidates: &[ReclamationCandidate],
    ) -> Result<(), StoreError> {
        // One write per key (DynamoDB refuses a batch naming an item twice): the last wins.
        let mut ops = std::collections::BTreeMap::new();
        for c in candidates {
            let (pk, sk) = (users_pk(cid, &c.account_id), candidate_sk(&c.user_key));
            let item = encode(c, &[(PK, pk.clone()), (SK, sk.clone())], None)?;
            ops.insert((pk, sk), WriteOp::Put(item));
        }
        self.table.batch_write(ops.into_values().collect()).await
    }

    async fn delete_candidates(
        &self,
        cid: &str,
        account_id: &str,
        user_keys: &[String],
    ) -> Result<(), StoreError> {
        let pk = users_pk(cid, account_id);
        let ops: std::collections::BTreeMap<String, WriteOp> = user_keys
            .iter()
            .map(|key| {
                let sk = candidate_sk(key);
                let op = WriteOp::Delete {
                    pk: pk.clone(),
                    sk: sk.clone(),
                };
                (sk, op)
            })
            .collect();
        self.table.batch_write(ops.into_values().collect()).await
    }

    fn list_account_candidates<'a>(
        &'a self,
        cid: &'a str,
        account_id: &'a str,
    ) -> BoxStream<'a, Result<ReclamationCandidate, StoreError>> {
        self.decoded_under(users_pk(cid, account_id), CANDIDATE_PREFIX)
    }
}
