//! DEBUG DIGEST and DEBUG DIGEST-VALUE: Redis's dataset fingerprint, built
//! the way its debug.c builds it, so the same data gives the same 40 hex
//! digits in forkv and in redis-server (a check after a migration or a
//! reload). Unordered things (keys, set members, hash fields, sorted set
//! members) are combined by xor; ordered ones (list elements, stream
//! entries) by feeding the digest back into SHA1.

use crate::store::Db;
use crate::types::Value;
use crate::util::format_f64;
use sha1_smol::Sha1;

pub type Digest = [u8; 20];

/// xor-s SHA1(`data`) into `digest`: order-free combination.
fn xor_digest(digest: &mut Digest, data: &[u8]) {
    let hash = Sha1::from(data).digest().bytes();
    digest.iter_mut().zip(hash).for_each(|(d, h)| *d ^= h);
}

/// digest = SHA1(digest xor SHA1(data)): order-preserving combination.
fn mix_digest(digest: &mut Digest, data: &[u8]) {
    xor_digest(digest, data);
    *digest = Sha1::from(&digest[..]).digest().bytes();
}

/// Redis's object type numbers (OBJ_STRING …), mixed in as big-endian u32.
fn type_code(value: &Value) -> u32 {
    match value {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Mixes one value (and whether it has a TTL) into `digest`, as Redis's
/// xorObjectDigest does.
pub fn mix_value(digest: &mut Digest, value: &Value, has_expire: bool) {
    mix_digest(digest, &type_code(value).to_be_bytes());
    match value {
        Value::Str(s) => s.with_bytes(|b| mix_digest(digest, b)),
        Value::List(l) => l.iter().for_each(|e| e.with_bytes(|b| mix_digest(digest, b))),
        Value::Set(s) => s.iter().for_each(|e| e.with_bytes(|b| xor_digest(digest, b))),
        Value::ZSet(z) => z.iter().for_each(|(member, score)| {
            let mut pair = Digest::default();
            member.with_bytes(|b| mix_digest(&mut pair, b));
            mix_digest(&mut pair, format_f64(score).as_bytes());
            xor_digest(digest, &pair);
        }),
        Value::Hash(h) => h.iter().for_each(|(field, v)| {
            let mut pair = Digest::default();
            field.with_bytes(|b| mix_digest(&mut pair, b));
            v.with_bytes(|b| mix_digest(&mut pair, b));
            xor_digest(digest, &pair);
        }),
        Value::Stream(s) => {
            for (id, items) in s.iter() {
                mix_digest(digest, format!("{}.{}", id.ms, id.seq).as_bytes());
                items.for_each(|item| mix_digest(digest, item));
            }
        }
    }
    if has_expire {
        xor_digest(digest, b"!!expire!!");
    }
}

/// DEBUG DIGEST: every db's keys and values; all zeros when empty. Keys
/// past their TTL but not yet removed count, as in Redis.
pub fn dataset(dbs: &[Db]) -> Digest {
    let mut all = Digest::default();
    for (index, db) in dbs.iter().enumerate().filter(|(_, db)| !db.is_empty()) {
        mix_digest(&mut all, &(index as u32).to_be_bytes());
        for slot in db.dict.iter() {
            let mut pair = Digest::default();
            mix_digest(&mut pair, db.key(slot));
            mix_value(&mut pair, db.value(slot), db.expire_at(slot).is_some());
            xor_digest(&mut all, &pair);
        }
    }
    all
}

pub fn hex(digest: &Digest) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_dataset_digests_to_zeros() {
        assert_eq!(hex(&dataset(&[Db::default()])), "0".repeat(40));
    }

    #[test]
    fn a_string_digests_as_redis_computes_it() {
        // Redis 7.0.15: SET foo bar; DEBUG DIGEST-VALUE foo.
        let mut d = Digest::default();
        mix_value(&mut d, &Value::from_bytes(b"bar"), false);
        assert_eq!(hex(&d), "68467c70ae30376e7ce005bcc8827f5ba7fd67dc");
    }
}
